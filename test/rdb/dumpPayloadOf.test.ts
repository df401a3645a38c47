import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { crc64 } from "../../core/rdb/crc64.ts";
import { dumpPayload, dumpPayloadOf, parseDumpPayload } from "../../core/rdb/payload.ts";
import { corpusFiles, parseEvents } from "./helpers.ts";

describe("DUMP payloads cut from the parser's input", () => {
  it("dumpPayloadOf gives dumpPayload's bytes, with a valid footer CRC", () => {
    const src = randomBytes(500);
    const out = dumpPayloadOf(16, src, 100, 400, 10);
    expect(out).toEqual(dumpPayload(16, src.subarray(100, 400), 10));
    const parsed = parseDumpPayload(out);
    expect(parsed.valueBytes).toEqual(src.subarray(100, 400));
    expect(out.readBigUInt64LE(out.length - 8)).toBe(crc64(out.subarray(0, out.length - 8)));
    expect(crc64(Buffer.from("123456789"))).toBe(0xe9c6d914c4b8d9can);
  });

  it("a byte flipped inside a dumped value still fails the RDB's checksum in dumps mode", () => {
    const [, bytes] = corpusFiles().find(([name]) => name === "generated/redis-7.0.15.rdb")!;
    const events = parseEvents(bytes, { dumps: () => true });
    expect(events.at(-1)).toMatchObject({ kind: "eof", checksumOk: true });
    // A plain string value of some length: flipping one of its bytes keeps the file parseable.
    const victim = events.find(
      // Not 11xxxxxx: neither an integer nor an LZF encoding, just a length and the bytes.
      (e) =>
        e.kind === "key-dump" &&
        e.valueType === "string" &&
        (e.dump[1]! & 0xc0) !== 0xc0 &&
        e.dump.length > 24,
    );
    if (victim?.kind !== "key-dump") throw new Error("no long plain string in the corpus file");
    const value = parseDumpPayload(victim.dump).valueBytes;
    const at = bytes.indexOf(value);
    expect(at).toBeGreaterThan(0);
    const corrupted = Buffer.from(bytes);
    corrupted[at + value.length - 3]! ^= 0x01;
    expect(() => parseEvents(corrupted, { dumps: () => true })).toThrow(/checksum mismatch/);
    expect(() => parseEvents(corrupted, { dumps: () => true }, () => 7)).toThrow(/checksum mismatch/);
  });
});

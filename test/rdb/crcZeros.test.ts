import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Crc64, crc64 } from "../../core/rdb/crc64.ts";
import { dumpPayload, dumpPayloadOf, parseDumpPayload } from "../../core/rdb/payload.ts";

describe("CRC-64 zero-skip and combine", () => {
  it("skipZeros(n) equals feeding n zero bytes, for lengths across many bit patterns", () => {
    for (const n of [0, 1, 2, 3, 7, 8, 9, 63, 100, 375, 1000, 4097, 65_535, 65_536, 300_001]) {
      const seed = randomBytes(8).readBigUInt64LE(0);
      expect(new Crc64(seed).skipZeros(n).digest(), `n=${n}`).toBe(crc64(Buffer.alloc(n), seed));
    }
  });

  it("crc(s, B) = crc(0, B) ^ skipZeros(s, |B|): a running CRC moved over a span without reading it", () => {
    const prefix = randomBytes(1234);
    const span = randomBytes(777);
    const running = new Crc64().update(prefix);
    running.skipZeros(span.length).xor(new Crc64().update(span));
    expect(running.digest()).toBe(crc64(Buffer.concat([prefix, span])));
    expect(crc64(Buffer.from("123456789"))).toBe(0xe9c6d914c4b8d9can);
  });

  it("dumpPayloadOf gives dumpPayload's bytes and the value's own CRC", () => {
    const src = randomBytes(500);
    const valueCrc = new Crc64();
    const out = dumpPayloadOf(16, src, 100, 400, 10, valueCrc);
    expect(out).toEqual(dumpPayload(16, src.subarray(100, 400), 10));
    expect(parseDumpPayload(out).valueBytes).toEqual(src.subarray(100, 400));
    expect(valueCrc.digest()).toBe(crc64(src.subarray(100, 400)));
  });
});

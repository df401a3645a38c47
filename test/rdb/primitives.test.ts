import { describe, expect, it } from "vitest";
import { crc64 } from "../../core/rdb/crc64.ts";
import { RdbFormatError } from "../../core/rdb/errors.ts";
import { lzfDecompress, lzfSlices } from "../../core/rdb/lzf.ts";
import { moduleNameFromId } from "../../core/rdb/module.ts";
import { dumpPayload, parseDumpPayload } from "../../core/rdb/payload.ts";
import { rng } from "./helpers.ts";

describe("crc64 (Jones, reflected, as Redis)", () => {
  it("matches the check value and is incremental at any split", () => {
    expect(crc64(Buffer.from("123456789"))).toBe(0xe9c6d914c4b8d9can);
    const random = rng(7);
    const data = Buffer.from(Array.from({ length: 1000 }, () => Math.floor(random() * 256)));
    const whole = crc64(data);
    for (const split of [0, 1, 7, 8, 9, 500, 999, 1000])
      expect(crc64(data.subarray(split), crc64(data.subarray(0, split)))).toBe(whole);
  });

  it("runs at more than 100 MB/s (best of 3, the CI box is shared)", () => {
    const data = Buffer.alloc(16 * 1024 * 1024, 0xab);
    let best = 0;
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      crc64(data);
      best = Math.max(best, 16 / ((performance.now() - started) / 1000));
    }
    expect(best).toBeGreaterThan(100);
  });
});

describe("lzf", () => {
  // "abcabcabc…" compressed by hand: literal "abc", then a back reference of 30 bytes at distance 3.
  const compressed = Buffer.from([0x02, 0x61, 0x62, 0x63, 0xe0, 30 - 2 - 7, 0x02]);
  it("decompresses literal runs and overlapping back references", () => {
    expect(lzfDecompress(compressed, 33).toString()).toBe("abc".repeat(11));
  });
  it("decompresses in slices with the same result", () => {
    // Ten more 30-byte references: 303 bytes out, sliced 4 at a time (a step may overshoot a slice).
    const long = Buffer.concat([
      compressed,
      ...Array.from({ length: 10 }, () => Buffer.from([0xe0, 21, 0x02])),
    ]);
    const slices = [...lzfSlices(long, 333, 4)];
    expect(Buffer.concat(slices)).toEqual(lzfDecompress(long, 333));
    expect(Buffer.concat(slices).toString()).toBe("abc".repeat(111));
    expect(slices.length).toBeGreaterThan(1);
  });
  it("rejects a wrong length and references before the start", () => {
    expect(() => lzfDecompress(compressed, 34)).toThrow(RdbFormatError);
    expect(() => lzfDecompress(Buffer.from([0x20, 0x05]), 3)).toThrow(RdbFormatError);
  });
});

describe("dump payload", () => {
  it("is type + value + version LE + crc64 LE and round-trips", () => {
    const payload = dumpPayload(0, Buffer.from([0x03, 0x66, 0x6f, 0x6f]), 10);
    expect(payload.subarray(0, 7)).toEqual(Buffer.from([0x00, 0x03, 0x66, 0x6f, 0x6f, 0x0a, 0x00]));
    expect(payload.readBigUInt64LE(7)).toBe(crc64(payload.subarray(0, 7)));
    expect(parseDumpPayload(payload)).toEqual({
      rdbType: 0,
      valueBytes: Buffer.from("\x03foo"),
      rdbVersion: 10,
    });
  });
});

describe("module names", () => {
  it("decodes the 9-character name above the 10-bit encoding version", () => {
    const charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let id = 0n;
    for (const ch of "ReJSON-RL") id = (id << 6n) | BigInt(charset.indexOf(ch));
    expect(moduleNameFromId((id << 10n) | 3n)).toBe("ReJSON-RL");
  });
});

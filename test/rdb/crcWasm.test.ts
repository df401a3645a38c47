import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Crc64 } from "../../core/rdb/crc64.ts";

/** CRC-64/Jones one bit at a time (BigInt): slow, obviously right, independent of both table loops. */
function bitwise(bytes: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n; // 0xad93d23594c935a9 reflected
  let crc = 0n;
  for (const byte of bytes) {
    crc ^= BigInt(byte);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe("CRC-64: the WebAssembly loop agrees with the JS loop and with a bitwise reference", () => {
  it("Redis' check value and long inputs that cross the wasm data area (1 MiB slices)", () => {
    expect(new Crc64().update(Buffer.from("123456789")).digest()).toBe(0xe9c6d914c4b8d9can);
    const long = Buffer.alloc(2.5 * 1024 * 1024 + 13);
    for (let i = 0; i < long.length; i++) long[i] = (i * 2654435761) >>> 24;
    // The same bytes fed in spans of 40 (JS loop only) and whole (wasm): same CRC.
    const viaJs = new Crc64();
    for (let at = 0; at < long.length; at += 40) viaJs.update(long, at, Math.min(long.length, at + 40));
    expect(new Crc64().update(long).digest()).toBe(viaJs.digest());
    expect(bitwise(long.subarray(0, 5000))).toBe(new Crc64().update(long, 0, 5000).digest());
  });

  it("any bytes, any split into spans long and short, any offset into the buffer", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 7 }),
        (bytes, spans, pad) => {
          const buf = Buffer.concat([Buffer.alloc(pad, 0xee), Buffer.from(bytes)]);
          const crc = new Crc64();
          let at = pad;
          for (let k = 0; at < buf.length; k++) {
            const end = Math.min(buf.length, at + spans[k % spans.length]!);
            crc.update(buf, at, end);
            at = end;
          }
          expect(crc.digest()).toBe(bitwise(bytes));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("FERRY_CRC_WASM=0 (JS only) gives the same CRC as the default", () => {
    const script =
      'import { Crc64 } from "./core/rdb/crc64.ts"; const b = Buffer.alloc(100000, 3); for (let i = 0; i < b.length; i++) b[i] = (i * 31) & 255; console.log(new Crc64().update(b).digest().toString(16));';
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        env: { ...process.env, ...env },
        encoding: "utf8",
      }).stdout.trim();
    const wasm = run({});
    expect(wasm).toMatch(/^[0-9a-f]+$/);
    expect(run({ FERRY_CRC_WASM: "0" })).toBe(wasm);
  });
});

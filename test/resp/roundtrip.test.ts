import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RespDecoder } from "../../core/resp/decoder.ts";
import { encodeCommand, encodeCommands, encodedLength } from "../../core/resp/encoder.ts";
import { NEED_MORE } from "../../core/resp/types.ts";

const arg = fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes));
const command = fc.array(arg, { minLength: 1, maxLength: 12 });

describe("encode → decode round trip", () => {
  it("random binary command arrays survive random chunking, with exact frame sizes", () => {
    fc.assert(
      fc.property(
        fc.array(command, { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (commands, chunkSizes) => {
          const wire = encodeCommands(commands);
          const decoder = new RespDecoder();
          const decoded: Buffer[][] = [];
          const sizes: number[] = [];
          let pos = 0;
          for (let i = 0; pos < wire.length; i++) {
            const size = chunkSizes[i % chunkSizes.length]!;
            decoder.push(wire.subarray(pos, pos + size));
            pos += size;
            for (let frame = decoder.next(); frame !== NEED_MORE; frame = decoder.next()) {
              decoded.push(frame.value as Buffer[]);
              sizes.push(frame.bytes);
            }
          }
          expect(decoded).toEqual(commands);
          expect(sizes).toEqual(commands.map((c) => encodedLength(c)));
          expect(decoder.offset).toBe(wire.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("encodes strings as UTF-8 and numbers as decimal text, matching the single-command encoder", () => {
    const wire = encodeCommand(["SET", "clé", 42, Buffer.from([0, 1])]);
    expect(wire.toString("latin1")).toBe(
      "*4\r\n$3\r\nSET\r\n$4\r\ncl\xc3\xa9\r\n$2\r\n42\r\n$2\r\n\x00\x01\r\n",
    );
    expect(encodeCommands([["PING"], ["SET", "clé", 42, Buffer.from([0, 1])]])).toEqual(
      Buffer.concat([encodeCommand(["PING"]), wire]),
    );
    expect(() => encodeCommand(["SET", "k", Number.NaN])).toThrow(TypeError);
  });

  it("writes every header's digits in place, at each digit-count boundary", () => {
    for (const length of [0, 1, 9, 10, 99, 100, 999, 1000, 65_535, 100_000, 1_234_567]) {
      const value = Buffer.alloc(length, 0x61);
      const expected = Buffer.concat([Buffer.from(`*1\r\n$${length}\r\n`), value, Buffer.from("\r\n")]);
      expect(encodeCommand([value]).equals(expected)).toBe(true);
      expect(encodedLength([value])).toBe(expected.length);
    }
    const many = Array.from({ length: 1000 }, () => "x");
    expect(encodeCommand(many).subarray(0, 7).toString()).toBe("*1000\r\n");
  });
});

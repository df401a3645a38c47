import { describe, expect, it } from "vitest";
import { FatalError } from "../../core/errors.ts";
import { RespDecoder } from "../../core/resp/decoder.ts";
import { RespProtocolError } from "../../core/resp/errors.ts";
import { NEED_MORE } from "../../core/resp/types.ts";

const MALFORMED: Array<{ name: string; wire: string; offset: number; expected: RegExp }> = [
  {
    name: "unknown type byte",
    wire: "+OK\r\nHTTP/1.1 400 Bad Request\r\n",
    offset: 5,
    expected: /RESP type byte/,
  },
  { name: "bulk length not a number", wire: "$abc\r\n", offset: 1, expected: /decimal digit/ },
  { name: "negative bulk length", wire: "$-5\r\nhello\r\n", offset: 1, expected: /length between/ },
  {
    name: "bulk longer than announced",
    wire: "$3\r\nhello\r\n",
    offset: 7,
    expected: /CRLF after a 3-byte bulk/,
  },
  { name: "CR without LF", wire: ":12\rx\n", offset: 4, expected: /LF after CR/ },
  { name: "empty integer", wire: ":\r\n", offset: 1, expected: /an integer/ },
  { name: "bad boolean", wire: "#x\r\n", offset: 1, expected: /t or f/ },
  { name: "bad double", wire: ",1.2.3\r\n", offset: 1, expected: /a double/ },
  { name: "bad big number", wire: "(12a\r\n", offset: 1, expected: /big number/ },
  { name: "verbatim without format", wire: "=2\r\nab\r\n", offset: 4, expected: /verbatim/ },
  { name: "null with payload", wire: "_x\r\n", offset: 1, expected: /CRLF right after _/ },
  { name: "streamed aggregate", wire: "*?\r\n", offset: 1, expected: /streamed/ },
  { name: "bad element inside an array", wire: "*2\r\n:1\r\n@\r\n", offset: 8, expected: /RESP type byte/ },
];

describe("RespDecoder: malformed input", () => {
  for (const c of MALFORMED) {
    it(`${c.name} → RespProtocolError at byte ${c.offset}, fed whole or byte by byte`, () => {
      const wire = Buffer.from(c.wire, "latin1");
      for (const step of [wire.length, 1]) {
        const decoder = new RespDecoder();
        let error: unknown;
        try {
          for (let i = 0; i < wire.length; i += step) {
            decoder.push(wire.subarray(i, i + step));
            while (decoder.next() !== NEED_MORE);
          }
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(RespProtocolError);
        expect(error).toBeInstanceOf(FatalError);
        expect((error as RespProtocolError).offset).toBe(c.offset);
        expect((error as RespProtocolError).expected).toMatch(c.expected);
        expect((error as Error).message).toContain(`byte ${c.offset}`);
      }
    });
  }

  it("gives up on a line that never ends instead of buffering forever", () => {
    const decoder = new RespDecoder({ maxLineLength: 1024 });
    decoder.push(Buffer.from("+"));
    const filler = Buffer.alloc(256, 0x61);
    expect(() => {
      for (let i = 0; i < 10; i++) {
        decoder.push(filler);
        decoder.next();
      }
    }).toThrow(/CRLF within 1024 bytes/);
  });

  it("rejects a bulk length above the configured maximum before reading the body", () => {
    const decoder = new RespDecoder({ maxBulkLength: 1000 });
    decoder.push(Buffer.from("$1001\r\n"));
    expect(() => decoder.next()).toThrow(RespProtocolError);
  });
});

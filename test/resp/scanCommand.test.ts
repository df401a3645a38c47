import { describe, expect, it } from "vitest";
import { RespDecoder } from "../../core/resp/decoder.ts";
import { encodeCommand } from "../../core/resp/encoder.ts";
import { splitCommandFrame } from "../../core/resp/streamCommand.ts";
import { NEED_MORE } from "../../core/resp/types.ts";

const commands = [
  ["SET", "key", "value"],
  ["select", "3"],
  ["LPUSH", "list", "", "a\r\nb"],
  ["INCR", "x".repeat(300)],
];
// A master stream: commands, a keepalive-free PING, and a frame the scan leaves to next().
const stream = Buffer.concat([
  ...commands.map((c) => encodeCommand(c)),
  Buffer.from("*1\r\n$4\r\nPING\r\n"),
  Buffer.from("*2\r\n$3\r\nDEL\r\n$-1\r\n"),
]);

interface Seen {
  argv: string[];
  bytes: number;
  raw: string | null;
}

function decode(chunks: Buffer[]): Seen[] {
  const decoder = new RespDecoder();
  const seen: Seen[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    // The loop of ReplicaSession.receiveStream: the scan first, the generic parser behind it.
    for (;;) {
      if (decoder.scanCommand()) {
        const { buf, start, end } = decoder.scanned;
        const raw = buf.subarray(start, end);
        seen.push({
          argv: splitCommandFrame(raw).map(String),
          bytes: end - start,
          raw: raw.toString("latin1"),
        });
        continue;
      }
      const frame = decoder.next();
      if (frame === NEED_MORE) break;
      seen.push({ argv: (frame.value as Array<Buffer | null>).map(String), bytes: frame.bytes, raw: null });
    }
  }
  expect(decoder.buffered).toBe(0);
  return seen;
}

describe("RespDecoder.scanCommand, with next() behind it", () => {
  it("returns argv, wire size and the exact frame bytes, the same at every split point", () => {
    const whole = decode([stream]);
    expect(whole.map((s) => s.argv)).toEqual([...commands, ["PING"], ["DEL", "null"]]);
    let at = 0;
    for (const s of whole) {
      // raw is the frame's bytes as received whenever the fast path took it
      if (s.raw !== null) expect(s.raw).toBe(stream.toString("latin1", at, at + s.bytes));
      at += s.bytes;
    }
    expect(at).toBe(stream.length);
    expect(whole.slice(0, 5).every((s) => s.raw !== null)).toBe(true);
    expect(whole[5]!.raw).toBeNull(); // $-1 is not a command argument: the generic path decides
    for (let split = 1; split < stream.length; split++) {
      const parts = decode([stream.subarray(0, split), stream.subarray(split)]);
      expect(parts.map((s) => [s.argv, s.bytes])).toEqual(whole.map((s) => [s.argv, s.bytes]));
    }
    const byteByByte = decode([...stream].map((b) => Buffer.from([b])));
    expect(byteByByte.map((s) => [s.argv, s.bytes])).toEqual(whole.map((s) => [s.argv, s.bytes]));
  });

  it("leaves malformed input to next(), which reports it", () => {
    const decoder = new RespDecoder();
    const input = Buffer.from("*2\r\n$3\r\nSET\r\n$1\r\nkX\n");
    decoder.push(input);
    expect(decoder.scanCommand()).toBe(false);
    expect(decoder.buffered).toBe(input.length); // nothing consumed
    expect(() => decoder.next()).toThrow(/CRLF/);
  });
});

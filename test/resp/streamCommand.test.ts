import { describe, expect, it } from "vitest";
import type { Command } from "../../core/model.ts";
import { CommandStream } from "../../core/replication/commandStream.ts";
import { RespDecoder } from "../../core/resp/decoder.ts";
import { encodeCommand } from "../../core/resp/encoder.ts";
import { CommandNames } from "../../core/resp/names.ts";
import { rawEncoding } from "../../core/resp/raw.ts";
import { lookupCommandName, StreamCommand } from "../../core/resp/streamCommand.ts";

const frame = (...args: string[]) => encodeCommand(args);

/** Feeds `bytes` to a decoder + stream the way ReplicaSession.receiveStream does. */
function feed(bytes: Buffer, stream = new CommandStream(100, 0)) {
  const decoder = new RespDecoder();
  decoder.push(bytes);
  const out: Command[] = [];
  let scanned = 0;
  while (decoder.scanCommand()) {
    scanned++;
    stream.feedScanned(decoder.scanned, out);
  }
  return { out, stream, scanned, decoder };
}

describe("scanned stream commands", () => {
  it("keep the master's bytes, count offsets and dbs, and build argv only when asked", () => {
    const bytes = Buffer.concat([
      frame("SET", "k1", "v1"),
      frame("SELECT", "3"),
      frame("PING"),
      frame("HSET", "h", "f", "x".repeat(300)),
    ]);
    const { out, stream, scanned } = feed(bytes);
    expect(scanned).toBe(4);
    expect(stream.offset).toBe(100 + bytes.length);
    expect(out).toHaveLength(2);
    const [set, hset] = out as StreamCommand[];
    expect(set).toBeInstanceOf(StreamCommand);
    expect(set!.db).toBe(0);
    expect(set!.offset).toBe(100 + frame("SET", "k1", "v1").length);
    expect(hset!.db).toBe(3);
    expect(hset!.offset).toBe(100 + bytes.length);
    // Untouched: the frame is the encoding, and the name is read in place.
    expect(set!.untouched).toBe(true);
    expect(rawEncoding(set!)).toEqual(frame("SET", "k1", "v1"));
    const names = new CommandNames([["hset", "hash"] as const, ["set", "string"] as const]);
    expect(lookupCommandName(names, set!)).toBe("string");
    expect(lookupCommandName(names, hset!)).toBe("hash");
    expect(set!.untouched).toBe(true);
    // Asked for: argv equals what was sent, and the frame still encodes it.
    expect(hset!.argv.map(String)).toEqual(["HSET", "h", "f", "x".repeat(300)]);
    expect(rawEncoding(hset!)).toEqual(frame("HSET", "h", "f", "x".repeat(300)));
    expect(lookupCommandName(names, hset!)).toBe("hash");
  });

  it("a rewrite (argv set) drops the frame, so the writer encodes the new argv", () => {
    const { out } = feed(frame("SET", "a", "1"));
    const command = out[0] as StreamCommand;
    command.argv = [Buffer.from("SET"), Buffer.from("renamed:a"), Buffer.from("1")];
    expect(command.raw).toBeUndefined();
    expect(rawEncoding(command)).toBeUndefined();
    expect(command.argv.map(String)).toEqual(["SET", "renamed:a", "1"]);
  });

  it("a MULTI…EXEC block is held and released whole, every command with the EXEC's offset and one txn", () => {
    const bytes = Buffer.concat([frame("MULTI"), frame("INCR", "a"), frame("INCR", "b"), frame("EXEC")]);
    const first = feed(bytes.subarray(0, bytes.length - frame("EXEC").length));
    expect(first.out).toHaveLength(0);
    expect(first.stream.inTransaction).toBe(true);
    expect(first.stream.safeOffset).toBe(100);
    const rest = feed(frame("EXEC"), first.stream);
    expect(rest.out).toHaveLength(2);
    expect(rest.out.map((c) => c.offset)).toEqual([100 + bytes.length, 100 + bytes.length]);
    expect(new Set(rest.out.map((c) => c.txn)).size).toBe(1);
    expect(rest.out[0]!.txn).toBeDefined();
    expect(rest.stream.safeOffset).toBe(100 + bytes.length);
  });

  it("stops at a frame split across reads without consuming it", () => {
    const whole = Buffer.concat([frame("SET", "k", "v"), frame("SET", "k2", "v2")]);
    const { out, decoder, scanned } = feed(whole.subarray(0, whole.length - 3));
    expect(scanned).toBe(1);
    expect(out).toHaveLength(1);
    expect(decoder.buffered).toBe(frame("SET", "k2", "v2").length - 3);
  });

  it("commands of one read adjoin and copy as one run; a control frame or another read breaks the run", () => {
    const { out } = feed(
      Buffer.concat([frame("SET", "a", "1"), frame("SET", "b", "2"), frame("PING"), frame("SET", "c", "3")]),
    );
    const [a, b, c] = out as StreamCommand[];
    expect(a!.adjoins(b!)).toBe(true);
    expect(b!.adjoins(c!)).toBe(false); // PING lies between them
    const other = feed(frame("SET", "d", "4")).out[0] as StreamCommand;
    expect(c!.adjoins(other)).toBe(false); // another buffer
    const copy = Buffer.alloc(a!.frameBytes + b!.frameBytes);
    expect(StreamCommand.copyRun(a!, b!, copy, 0)).toBe(copy.length);
    expect(copy).toEqual(Buffer.concat([frame("SET", "a", "1"), frame("SET", "b", "2")]));
  });
});

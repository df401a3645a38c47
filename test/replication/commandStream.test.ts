import { describe, expect, it } from "vitest";
import { CommandStream } from "../../core/replication/commandStream.ts";
import { encodeCommand } from "../../core/resp/encoder.ts";
import type { RespFrame } from "../../core/resp/types.ts";

const frame = (...args: string[]): RespFrame => ({
  value: args.map((a) => Buffer.from(a)),
  bytes: encodeCommand(args).length,
});

describe("CommandStream offset accounting", () => {
  it("counts every frame, consumes PING/SELECT/REPLCONF, and tags commands with db and end offset", () => {
    const stream = new CommandStream(100, 0);
    const frames = [
      frame("PING"),
      frame("SELECT", "2"),
      frame("SET", "k", "v"),
      frame("REPLCONF", "GETACK", "*"),
    ];
    const results = frames.map((f) => stream.feed(f));
    const total = frames.reduce((sum, f) => sum + f.bytes, 0);
    expect(stream.offset).toBe(100 + total);
    expect(results.map((r) => r.commands.length)).toEqual([0, 0, 1, 0]);
    expect(results[3]?.getAck).toBe(true);
    const set = results[2]!.commands[0]!;
    expect(set.db).toBe(2);
    expect(set.offset).toBe(100 + frames[0]!.bytes + frames[1]!.bytes + frames[2]!.bytes);
    expect(stream.safeOffset).toBe(stream.offset);
  });

  it("releases a MULTI…EXEC block whole at EXEC, every command at the EXEC end offset", () => {
    const stream = new CommandStream(0, 0);
    stream.feed(frame("MULTI"));
    const inside = [
      stream.feed(frame("SET", "a", "1")),
      stream.feed(frame("select", "4")),
      stream.feed(frame("INCR", "b")),
    ];
    expect(inside.every((r) => r.commands.length === 0)).toBe(true);
    expect(stream.safeOffset).toBe(0);
    expect(stream.inTransaction).toBe(true);
    const exec = stream.feed(frame("EXEC"));
    expect(exec.commands.map((c) => [c.argv[0]!.toString(), c.db, c.offset])).toEqual([
      ["SET", 0, stream.offset],
      ["INCR", 4, stream.offset],
    ]);
    expect(new Set(exec.commands.map((c) => c.txn)).size).toBe(1);
    expect(stream.safeOffset).toBe(stream.offset);
    expect(stream.safeDb).toBe(4);
  });

  it("rejects a frame that is not a command array", () => {
    const stream = new CommandStream(0, 0);
    expect(() => stream.feed({ value: 5, bytes: 4 })).toThrow(/not a command array/);
  });
});

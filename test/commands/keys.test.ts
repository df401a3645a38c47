import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  builtinCommandTable,
  commandFlags,
  commandTableFromReply,
  keyIndexes,
  loadCommandTable,
} from "../../core/commands/index.ts";
import type { CommandTable } from "../../core/commands/table.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

/** Commands as they appear in replication streams, each with distinct key names. */
const SAMPLES: string[][] = [
  ["SET", "k1", "v"],
  ["set", "k1", "v", "PX", "100", "NX"],
  ["SETEX", "k1", "10", "v"],
  ["GETDEL", "k1"],
  ["APPEND", "k1", "x"],
  ["INCRBYFLOAT", "k1", "1.5"],
  ["MSET", "a", "1", "b", "2", "c", "3"],
  ["MSETNX", "a", "1", "b", "2"],
  ["DEL", "a", "b", "c"],
  ["UNLINK", "a"],
  ["EXISTS", "a", "b"],
  ["TOUCH", "a", "b"],
  ["RENAME", "src", "dst"],
  ["RENAMENX", "src", "dst"],
  ["COPY", "src", "dst", "DB", "1", "REPLACE"],
  ["MOVE", "a", "1"],
  ["PEXPIREAT", "a", "1000000", "NX"],
  ["PERSIST", "a"],
  ["RESTORE", "a", "0", "payload", "REPLACE", "ABSTTL"],
  ["LPUSH", "l", "1", "2"],
  ["LMOVE", "l1", "l2", "LEFT", "RIGHT"],
  ["RPOPLPUSH", "l1", "l2"],
  ["BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0"],
  ["LMPOP", "2", "l1", "l2", "LEFT", "COUNT", "2"],
  ["BLMPOP", "0", "2", "l1", "l2", "LEFT"],
  ["BLPOP", "l1", "l2", "0"],
  ["SMOVE", "s1", "s2", "m"],
  ["SINTERSTORE", "dst", "s1", "s2"],
  ["SUNIONSTORE", "dst", "s1"],
  ["SDIFFSTORE", "dst", "s1", "s2", "s3"],
  ["ZADD", "z", "1", "m"],
  ["ZUNIONSTORE", "dst", "2", "z1", "z2", "WEIGHTS", "1", "2"],
  ["ZINTERSTORE", "dst", "3", "z1", "z2", "z3"],
  ["ZDIFFSTORE", "dst", "2", "z1", "z2"],
  ["ZRANGESTORE", "dst", "z", "0", "-1"],
  ["ZMPOP", "2", "z1", "z2", "MIN"],
  ["BZPOPMIN", "z1", "z2", "0"],
  ["HSET", "h", "f", "v", "g", "w"],
  ["HINCRBYFLOAT", "h", "f", "1"],
  ["XADD", "x", "MAXLEN", "10", "*", "f", "v"],
  ["XGROUP", "CREATE", "x", "g", "$", "MKSTREAM"],
  ["XGROUP", "CREATECONSUMER", "x", "g", "c"],
  ["XCLAIM", "x", "g", "c", "0", "1-1", "JUSTID"],
  ["XSETID", "x", "5-5"],
  ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "x1", "x2", ">", ">"],
  ["XREAD", "COUNT", "1", "STREAMS", "x1", "0"],
  ["PFADD", "p", "a"],
  ["PFMERGE", "dst", "p1", "p2"],
  ["BITOP", "AND", "dst", "a", "b"],
  ["SETBIT", "a", "1", "1"],
  ["GEOADD", "g", "1", "2", "m"],
  ["GEORADIUS", "g", "1", "2", "10", "km", "STORE", "dst"],
  ["GEORADIUS", "g", "1", "2", "10", "km", "STOREDIST", "dst2"],
  ["GEORADIUSBYMEMBER", "g", "m", "10", "km", "STORE", "dst"],
  ["GEOSEARCHSTORE", "dst", "src", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
  ["SORT", "l", "BY", "w_*", "GET", "#", "STORE", "dst"],
  ["SORT", "l", "LIMIT", "0", "5", "ALPHA"],
  ["EVAL", "return 1", "2", "k1", "k2", "arg"],
  ["EVALSHA", "abc", "0"],
  ["FCALL", "fn", "1", "k1", "a"],
  ["OBJECT", "ENCODING", "k1"],
  ["FLUSHALL", "ASYNC"],
  ["SWAPDB", "0", "1"],
  ["PING", "hello"],
];

function argvOf(sample: string[]): Buffer[] {
  return sample.map((s) => Buffer.from(s));
}

function keysOf(table: CommandTable, sample: string[]): string[] | null {
  const idx = keyIndexes(table, argvOf(sample));
  return idx === null ? null : idx.map((i) => sample[i]!);
}

describe("command key table", () => {
  let redis: RedisProc;
  let client: Redis;
  let loaded: CommandTable;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    loaded = await loadCommandTable(client);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("finds the same keys as COMMAND GETKEYS, with the built-in and the loaded table", async () => {
    for (const sample of SAMPLES) {
      let expected: string[];
      try {
        expected = ((await client.call("COMMAND", "GETKEYS", ...sample)) as Buffer[] | string[]).map(String);
      } catch (err) {
        // Keyless commands: Redis answers an error ("The command has no key arguments").
        expect(String(err), sample.join(" ")).toMatch(/no key arguments|Invalid arguments/);
        expected = [];
      }
      expect(keysOf(builtinCommandTable, sample), `builtin: ${sample.join(" ")}`).toEqual(expected);
      expect(keysOf(loaded, sample), `loaded: ${sample.join(" ")}`).toEqual(expected);
    }
  });

  it("reads a pre-7.0 reply (no key specs): legacy ranges, built-in specs for movablekeys commands", async () => {
    // A Redis 6.x COMMAND reply is the 7.0 one without tips, key specs and subcommands.
    const reply = ((await client.call("COMMAND")) as unknown[][]).map((entry) => entry.slice(0, 7));
    const legacy = commandTableFromReply(reply);
    expect(legacy.commands.get("zunionstore")?.flags).toContain("movablekeys");
    for (const sample of SAMPLES) {
      const expected = keysOf(loaded, sample);
      expect(keysOf(legacy, sample), `legacy: ${sample.join(" ")}`).toEqual(expected);
    }
  });

  it("returns null for unknown commands and malformed numkeys, [] for keyless known ones", () => {
    expect(keysOf(builtinCommandTable, ["NOSUCHCMD", "a"])).toBeNull();
    expect(keysOf(builtinCommandTable, ["EVAL", "return 1", "x", "k"])).toBeNull();
    expect(keysOf(builtinCommandTable, ["ZUNIONSTORE", "d", "5", "a", "b"])).toBeNull();
    expect(keysOf(builtinCommandTable, ["SET", "a"])).toBeNull();
    expect(keysOf(builtinCommandTable, ["FLUSHDB", "ASYNC"])).toEqual([]);
  });

  it("knows flags of commands and subcommands", () => {
    expect(commandFlags(builtinCommandTable, "SET")).toContain("write");
    expect(commandFlags(builtinCommandTable, "shutdown")).toContain("admin");
    expect(commandFlags(loaded, "config|set")).toContain("admin");
    expect(commandFlags(loaded, "XGROUP CREATE")).toContain("write");
    expect(commandFlags(loaded, "nosuch")).toEqual([]);
  });
});

/**
 * The filter on a command stream, proved on real servers: every command runs on a "source", the
 * filtered commands on a "target"; the target must then hold exactly the source's allowed keys,
 * renamed and in their mapped dbs.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCommandTable } from "../../core/commands/load.ts";
import { compileFilter } from "../../core/filters/index.ts";
import type { Command } from "../../core/model.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const STREAM: [number, ...string[]][] = [
  [0, "MSET", "keep:1", "a", "drop:1", "b", "keep:2", "c"],
  [0, "SET", "drop:2", "x"],
  [0, "RPUSH", "keep:list", "1", "2", "3"],
  [0, "SADD", "keep:s1", "a", "b"],
  [0, "SADD", "drop:s2", "b", "c"],
  [0, "SUNIONSTORE", "keep:u", "keep:s1", "drop:s2"],
  [0, "SINTERSTORE", "keep:i", "keep:s1"],
  [0, "RENAME", "keep:2", "drop:3"],
  [0, "RENAME", "keep:1", "keep:1b"],
  [0, "DEL", "keep:list", "drop:1"],
  [0, "ZADD", "keep:z", "1", "m", "2", "n"],
  [0, "ZUNIONSTORE", "keep:zu", "1", "keep:z", "WEIGHTS", "3"],
  [3, "SET", "keep:db3", "v"],
  [3, "SET", "keep:moved", "v"],
  [3, "MOVE", "keep:moved", "0"],
  [2, "SET", "keep:db2", "v"],
  [0, "HSET", "keep:h", "f", "v"],
  [0, "PEXPIREAT", "keep:h", "4102444800000"],
  [0, "FLUSHDB"],
];

/** Every key of a db as type + logical value + absolute expiry (DUMP bytes depend on hash seeds). */
async function dump(client: Redis, db: number): Promise<Record<string, string>> {
  await client.select(db);
  const out: Record<string, string> = {};
  for (const key of await client.keys("*")) {
    const type = await client.type(key);
    const value =
      type === "string"
        ? await client.get(key)
        : type === "list"
          ? await client.lrange(key, 0, -1)
          : type === "set"
            ? (await client.smembers(key)).sort()
            : type === "zset"
              ? await client.zrange(key, 0, -1, "WITHSCORES")
              : await client.hgetall(key);
    out[key] = `${type} ${JSON.stringify(value)} ttl:${await client.pexpiretime(key)}`;
  }
  return out;
}

describe("filtered stream applied to a real server", () => {
  let source: RedisProc;
  let target: RedisProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("leaves the target equal to the source's allowed keys, renamed and db-mapped", async () => {
    const src = source.client();
    const dst = target.client();
    const table = await loadCommandTable(dst);
    const filter = compileFilter({
      includePrefixes: ["keep:"],
      excludeDbs: [2],
      dbMap: { "3": 1 },
      renamePrefixes: [{ from: "keep:", to: "k:" }],
    });
    for (const [db, ...args] of STREAM) {
      const command: Command = { argv: args.map((a) => Buffer.from(a)), db, offset: 0 };
      // FLUSHDB is dropped by default: the source keeps its state only until here.
      if (args[0] !== "FLUSHDB") {
        await src.select(db);
        await src.call(args[0]!, ...args.slice(1));
      }
      const out = filter.command(command, table);
      if (!out) continue;
      await dst.select(out.db);
      await dst.callBuffer(out.argv[0]!.toString(), ...out.argv.slice(1));
    }
    const expected: Record<number, Record<string, string>> = {};
    for (const [from, to] of [
      [0, 0],
      [3, 1],
    ] as const) {
      const all = await dump(src, from);
      expected[to] = Object.fromEntries(
        Object.entries(all)
          .filter(([k]) => k.startsWith("keep:") && k !== "keep:u")
          .map(([k, v]) => [`k:${k.slice(5)}`, v]),
      );
    }
    // keep:u came from a filtered-out source set: the SUNIONSTORE was dropped (counted as partial).
    expect(await dump(dst, 0)).toEqual(expected[0]);
    expect(await dump(dst, 1)).toEqual(expected[1]);
    expect(await dump(dst, 2)).toEqual({});
    expect(Object.keys(expected[0]!).sort()).toEqual([
      "k:1b",
      "k:h",
      "k:i",
      "k:moved",
      "k:s1",
      "k:z",
      "k:zu",
    ]);
    expect(filter.counters.filteredCommands).toMatchObject({ partial: 1, command: 1, db: 1, keys: 2 });
  });
});

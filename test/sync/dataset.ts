/**
 * A deterministic dataset covering every value type in each of its server encodings (listpack,
 * quicklist, intset, hashtable, skiplist), binary keys and values, expiries, several dbs, a stream
 * with consumer groups and a PEL, and a big list and hash meant to exceed a small bigKeyThreshold.
 */
import type { Redis } from "ioredis";

export const DATASET_DBS = [0, 3, 15] as const;
export const BIG_LIST = "big:list";
export const BIG_HASH = "big:hash";
/** Elements of the big list/hash: ~100 KB each, far above the 16 KiB threshold the tests use. */
export const BIG_ELEMENTS = 5000;

export async function fillAllTypes(client: Redis): Promise<void> {
  const now = Date.now();
  const p = client.pipeline();
  p.select(0);
  // strings: int-encoded, embstr, raw, binary, and with absolute expiries
  p.set("str:int", "12345");
  p.set("str:short", "hello");
  p.set("str:long", "x".repeat(10_000));
  p.set(Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0x80]), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]));
  p.set("str:px", "expires", "PX", 600_000);
  p.set("str:pxat", "expires", "PXAT", now + 3_600_000 + 123);
  for (let i = 0; i < 200; i++) p.set(`k:${i}`, `v${i}`, "PX", 100_000 + i * 1000);
  // lists: listpack and quicklist
  p.rpush("list:small", "a", "b", "c", "1", "2");
  p.rpush("list:quick", ...Array.from({ length: 1000 }, (_, i) => `item-${i}-${"y".repeat(i % 50)}`));
  // sets: intset, listpack, hashtable
  p.sadd("set:int", 1, 2, 3, 100, -5);
  p.sadd("set:small", "a", "b", "c");
  p.sadd("set:big", ...Array.from({ length: 600 }, (_, i) => `member-${i}`));
  // sorted sets: listpack and skiplist, odd scores
  p.zadd("zset:small", 1, "a", 2.5, "b", -3, "c");
  p.call("ZADD", "zset:inf", "-inf", "lo", "+inf", "hi", "0", "zero");
  p.zadd("zset:big", ...Array.from({ length: 300 }, (_, i) => [i / 3, `m-${i}`]).flat());
  // hashes: listpack and hashtable
  p.hset("hash:small", "f1", "v1", "f2", "v2");
  p.hset("hash:big", ...Array.from({ length: 600 }, (_, i) => [`field-${i}`, `value-${i}`]).flat());
  p.pexpireat("hash:small", now + 7_200_000 + 7);
  // streams: entries, deleted entries, two groups, consumers, a PEL with claimed and acked entries
  for (let i = 1; i <= 50; i++) p.xadd("stream:s", `${1000 + i}-0`, "n", String(i), "pad", "z".repeat(i));
  p.xdel("stream:s", "1010-0", "1020-0");
  p.xgroup("CREATE", "stream:s", "g1", "0");
  p.xgroup("CREATE", "stream:s", "g2", "1030-0");
  p.call("XGROUP", "CREATECONSUMER", "stream:s", "g1", "idle-consumer");
  p.xreadgroup("GROUP", "g1", "alice", "COUNT", 10, "STREAMS", "stream:s", ">");
  p.xreadgroup("GROUP", "g1", "bob", "COUNT", 5, "STREAMS", "stream:s", ">");
  p.xack("stream:s", "g1", "1002-0", "1004-0");
  p.xclaim("stream:s", "g1", "bob", 0, "1003-0");
  p.xreadgroup("GROUP", "g2", "carol", "COUNT", 3, "STREAMS", "stream:s", ">");
  p.xadd("stream:empty", "1-1", "a", "b");
  p.xdel("stream:empty", "1-1");
  // big keys (chunked path when bigKeyThreshold is small)
  p.rpush(BIG_LIST, ...Array.from({ length: BIG_ELEMENTS }, (_, i) => `element-${i}-${"q".repeat(10)}`));
  p.hset(BIG_HASH, ...Array.from({ length: BIG_ELEMENTS }, (_, i) => [`f${i}`, `value-${i}-pad`]).flat());
  p.pexpireat(BIG_HASH, now + 9_000_000);
  // other dbs: same key names with other values, and expiries
  p.select(3);
  p.set("str:int", "3");
  p.rpush("list:small", "db3");
  p.hset("hash:small", "db", "3");
  p.set("db3:volatile", "v", "PX", 500_000);
  p.select(15);
  p.sadd("set:int", 15);
  p.zadd("zset:small", 15, "fifteen");
  p.select(0);
  await p.exec();
}

/** The PEL, consumers and group cursors of a stream, minus idle times (those differ by nature). */
export async function streamGroups(client: Redis, key: string): Promise<unknown> {
  const groups = (await client.call("XINFO", "GROUPS", key)) as unknown[][];
  const out: unknown[] = [];
  for (const group of groups) {
    const name = String(group[1]);
    const pending = (await client.call("XPENDING", key, name, "-", "+", "1000")) as unknown[][];
    const consumers = (await client.call("XINFO", "CONSUMERS", key, name)) as unknown[][];
    out.push({
      group,
      pending: pending.map((e) => [e[0], e[1], e[3]]),
      consumers: consumers.map((c) => [c[1], c[3]]),
    });
  }
  return out;
}

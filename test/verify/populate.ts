/** The same dataset written to any client: every type, TTLs, a stream with groups, consumers and a PEL. */
import type { Cluster, Redis } from "ioredis";

export async function populate(client: Redis | Cluster, tag = ""): Promise<void> {
  const k = (name: string) => `${tag}${name}`;
  await client.set(k("str"), "hello");
  await client.set(k("bin"), Buffer.from([0, 255, 10, 13]));
  await client.set(k("ttl"), "expiring", "PX", 600_000);
  await client.rpush(k("list"), "a", "b", "c");
  await client.hset(k("hash"), { f1: "v1", f2: "v2" });
  await client.hset(
    k("bighash"),
    Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`f${i}`, `v${i}`])),
  );
  await client.sadd(k("set"), "x", "y", "z");
  await client.sadd(k("bigset"), ...Array.from({ length: 1500 }, (_, i) => `m${i}`));
  await client.zadd(k("zset"), 1, "one", 2, "two", Number.POSITIVE_INFINITY, "inf");
  for (let i = 1; i <= 5; i++) await client.xadd(k("stream"), `${i}-0`, "n", String(i));
  await client.xgroup("CREATE", k("stream"), "g1", "0");
  await client.xgroup("CREATE", k("stream"), "g2", "$");
  await client.xreadgroup("GROUP", "g1", "alice", "COUNT", 2, "STREAMS", k("stream"), ">");
}

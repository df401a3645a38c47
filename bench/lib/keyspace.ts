/** Keyspace comparisons: "the target holds the source's keys", ferry's own marker keys left out. */
import type { Redis } from "ioredis";

/** Keys per db from INFO keyspace. */
export async function keyCounts(client: Redis): Promise<Map<number, number>> {
  const text = await client.info("keyspace");
  return new Map([...text.matchAll(/^db(\d+):keys=(\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]));
}

export async function totalKeys(client: Redis): Promise<number> {
  let n = 0;
  for (const count of (await keyCounts(client)).values()) n += count;
  return n;
}

/** Keys under ferry's marker prefix (db 0), to subtract from the target's count. */
export async function markerKeys(client: Redis, prefix = "__ferry:"): Promise<number> {
  let cursor = "0";
  let n = 0;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== "0");
  return n;
}

export async function replicationField(client: Redis, field: string): Promise<string | undefined> {
  const text = await client.info("replication");
  return new RegExp(`^${field}:(.*)\\r?$`, "m").exec(text)?.[1]?.trim();
}

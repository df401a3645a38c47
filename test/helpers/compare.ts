/**
 * The tests' own oracle: compare two Redis servers key by key, value by value and TTL by TTL.
 * Deliberately independent of ferry's `verify` (a bug shared by both would hide itself).
 */
import type { Redis } from "ioredis";

export interface CompareOptions {
  dbs?: number[];
  /** Target db for each source db (default: same). */
  dbMap?: Record<number, number>;
  ttlToleranceMs?: number;
  /** Keys starting with this prefix are ignored on both sides (ferry's markers). */
  ignorePrefix?: string;
}

export interface Difference {
  db: number;
  key: string;
  reason: string;
}

/** Every key of the client's current db, except those starting with `ignorePrefix`. */
export async function allKeys(client: Redis, ignorePrefix: string): Promise<Buffer[]> {
  const keys: Buffer[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scanBuffer(cursor, "COUNT", 1000);
    cursor = String(next);
    for (const key of batch) if (!key.toString("latin1").startsWith(ignorePrefix)) keys.push(key);
  } while (cursor !== "0");
  return keys;
}

/** A canonical, encoding-independent rendering of a key's value. */
export async function dumpValue(
  client: Redis,
  key: Buffer,
): Promise<{ type: string; value: string; pttl: number }> {
  const type = await client.type(key);
  let value: unknown;
  switch (type) {
    case "string":
      value = (await client.getBuffer(key))?.toString("base64");
      break;
    case "list":
      value = (await client.lrangeBuffer(key, 0, -1)).map((b) => b.toString("base64"));
      break;
    case "set":
      value = (await client.smembersBuffer(key)).map((b) => b.toString("base64")).sort();
      break;
    case "zset":
      value = await client.call("ZRANGE", key, "0", "-1", "WITHSCORES");
      break;
    case "hash": {
      const flat = await client.hgetallBuffer(key);
      value = Object.entries(flat)
        .map(([f, v]) => `${Buffer.from(f, "latin1").toString("base64")}=${v.toString("base64")}`)
        .sort();
      break;
    }
    case "stream":
      value = {
        entries: await client.call("XRANGE", key, "-", "+"),
        groups: await client.call("XINFO", "GROUPS", key),
        info: await streamIds(client, key),
      };
      break;
    default:
      value = null;
  }
  return { type, value: JSON.stringify(value), pttl: await client.pttl(key) };
}

async function streamIds(client: Redis, key: Buffer): Promise<unknown> {
  const info = (await client.call("XINFO", "STREAM", key)) as unknown[];
  const pick: Record<string, unknown> = {};
  for (let i = 0; i < info.length; i += 2) {
    const field = String(info[i]);
    if (["length", "last-generated-id", "max-deleted-entry-id", "entries-added"].includes(field))
      pick[field] = info[i + 1];
  }
  return pick;
}

/** How `key` differs between two servers (type, value, TTL beyond `toleranceMs`), or null. */
export async function keyDifference(
  source: Redis,
  target: Redis,
  key: Buffer,
  toleranceMs: number,
): Promise<string | null> {
  const [a, b] = await Promise.all([dumpValue(source, key), dumpValue(target, key)]);
  if (a.type !== b.type) return `type ${a.type} != ${b.type}`;
  if (a.value !== b.value) return `value differs: ${a.value.slice(0, 200)} != ${b.value.slice(0, 200)}`;
  if ((a.pttl < 0 || b.pttl < 0) && a.pttl !== b.pttl) return `ttl ${a.pttl} != ${b.pttl}`;
  if (a.pttl >= 0 && Math.abs(a.pttl - b.pttl) > toleranceMs) return `ttl ${a.pttl} vs ${b.pttl}`;
  return null;
}

export async function compareServers(
  source: Redis,
  target: Redis,
  opts: CompareOptions = {},
): Promise<Difference[]> {
  const dbs = opts.dbs ?? [0];
  const tolerance = opts.ttlToleranceMs ?? 1500;
  const ignore = opts.ignorePrefix ?? "__ferry:";
  const diffs: Difference[] = [];
  for (const db of dbs) {
    const targetDb = opts.dbMap?.[db] ?? db;
    await source.select(db);
    await target.select(targetDb);
    const sourceKeys = await allKeys(source, ignore);
    const targetKeys = new Set((await allKeys(target, ignore)).map((k) => k.toString("base64")));
    for (const key of sourceKeys) {
      const name = key.toString("latin1");
      if (!targetKeys.delete(key.toString("base64"))) {
        // The key may have expired on the source meanwhile.
        if ((await source.exists(key)) === 1) diffs.push({ db, key: name, reason: "missing on target" });
        continue;
      }
      const reason = await keyDifference(source, target, key, tolerance);
      if (reason) diffs.push({ db, key: name, reason });
    }
    for (const extra of targetKeys)
      diffs.push({ db, key: Buffer.from(extra, "base64").toString("latin1"), reason: "extra on target" });
  }
  await source.select(0);
  await target.select(0);
  return diffs;
}

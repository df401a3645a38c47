/**
 * Reads a server's keyspace into the shape of test/fixtures/rdb-corpus/generated/*.json (base64
 * keys and values, sets sorted, zsets in rank order, streams with groups and pending owners), so a
 * translated snapshot can be compared with what the source server held.
 */
import type { Redis } from "ioredis";

export interface FixtureKey {
  type: string;
  expire_at_ms: number | null;
  value: unknown;
  groups?: { name: string; last_delivered_id: string; pending: [string, string][] }[];
}

export interface Fixture {
  dbs: Record<string, Record<string, FixtureKey>>;
  function_names?: string[];
}

const b64 = (b: Buffer): string => b.toString("base64");

async function readValue(client: Redis, key: Buffer, type: string): Promise<unknown> {
  switch (type) {
    case "string":
      return b64((await client.getBuffer(key)) ?? Buffer.alloc(0));
    case "list":
      return (await client.lrangeBuffer(key, 0, -1)).map(b64);
    case "set":
      return (await client.smembersBuffer(key)).map(b64).sort();
    case "zset": {
      const flat = (await client.callBuffer("ZRANGE", key, "0", "-1", "WITHSCORES")) as Buffer[];
      const out: [string, number][] = [];
      for (let i = 0; i < flat.length; i += 2) out.push([b64(flat[i]!), parseScore(String(flat[i + 1]))]);
      return out;
    }
    case "hash": {
      const flat = (await client.callBuffer("HGETALL", key)) as Buffer[];
      const out: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) out[b64(flat[i]!)] = b64(flat[i + 1]!);
      return out;
    }
    case "stream":
      return (await client.xrangeBuffer(key, "-", "+")).map(([id, fields]) => [String(id), fields.map(b64)]);
    default:
      throw new Error(`unexpected type ${type}`);
  }
}

function parseScore(text: string): number {
  return text === "inf" ? Infinity : text === "-inf" ? -Infinity : Number(text);
}

async function readGroups(client: Redis, key: Buffer): Promise<NonNullable<FixtureKey["groups"]>> {
  const groups = (await client.call("XINFO", "GROUPS", key)) as unknown[][];
  const out: NonNullable<FixtureKey["groups"]> = [];
  for (const g of groups) {
    const info: Record<string, unknown> = {};
    for (let i = 0; i < g.length; i += 2) info[String(g[i])] = g[i + 1];
    const name = String(info["name"]);
    const pending = (await client.call("XPENDING", key, name, "-", "+", "10000")) as unknown[][];
    out.push({
      name,
      last_delivered_id: String(info["last-delivered-id"]),
      pending: pending.map((p) => [String(p[0]), String(p[1])]),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The server's dbs in fixture form (only dbs listed in `dbs`). */
export async function readKeyspace(client: Redis, dbs: readonly number[]): Promise<Fixture["dbs"]> {
  const out: Fixture["dbs"] = {};
  for (const db of dbs) {
    await client.select(db);
    const keys: Record<string, FixtureKey> = {};
    for (const key of (await client.keysBuffer("*")) as Buffer[]) {
      const type = await client.type(key);
      const at = Number(await client.call("PEXPIRETIME", key));
      const entry: FixtureKey = {
        type,
        expire_at_ms: at > 0 ? at : null,
        value: await readValue(client, key, type),
      };
      if (type === "stream") entry.groups = await readGroups(client, key);
      keys[b64(key)] = entry;
    }
    out[String(db)] = keys;
  }
  await client.select(0);
  return out;
}

/** A fixture's dbs normalized like readKeyspace (scores as numbers, sets and groups sorted). */
export function normalizeFixture(fixture: Fixture): Fixture["dbs"] {
  const out: Fixture["dbs"] = {};
  for (const [db, keys] of Object.entries(fixture.dbs)) {
    const norm: Record<string, FixtureKey> = {};
    for (const [key, k] of Object.entries(keys)) {
      let value = k.value;
      if (k.type === "set") value = [...(value as string[])].sort();
      if (k.type === "zset") value = (value as [string, string][]).map(([m, s]) => [m, parseScore(s)]);
      const entry: FixtureKey = { type: k.type, expire_at_ms: k.expire_at_ms, value };
      if (k.groups) entry.groups = [...k.groups].sort((a, b) => a.name.localeCompare(b.name));
      norm[key] = entry;
    }
    out[db] = norm;
  }
  return out;
}

/**
 * What `ferry check` reads from one node: INFO, the CONFIG values it judges, MODULE LIST. Managed
 * services often block CONFIG or MODULE: those become `null` (the check says it could not look)
 * rather than aborting the whole check.
 */
import type { Redis } from "ioredis";
import type { ServerVersion } from "./advice.ts";

export const CHECKED_CONFIG = [
  "repl-diskless-sync",
  "repl-timeout",
  "repl-backlog-size",
  "client-output-buffer-limit",
  "maxmemory",
  "maxmemory-policy",
  "notify-keyspace-events",
] as const;

export type CheckedConfig = (typeof CHECKED_CONFIG)[number];

export interface NodeFacts {
  address: string;
  client: Redis;
  info: Map<string, string>;
  version: ServerVersion;
  /** null when CONFIG GET is not allowed. */
  config: Map<CheckedConfig, string> | null;
  configError?: string;
  /** Loaded module names; null when MODULE LIST is not allowed. */
  modules: string[] | null;
  /** db → number of keys (INFO keyspace). */
  keyspace: Map<number, number>;
}

export function parseInfo(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return map;
}

export function parseKeyspace(info: Map<string, string>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [name, value] of info) {
    const db = /^db(\d+)$/.exec(name);
    const keys = /keys=(\d+)/.exec(value);
    if (db && keys) out.set(Number(db[1]), Number(keys[1]));
  }
  return out;
}

export function serverVersion(info: Map<string, string>): ServerVersion {
  // Valkey 8+ reports redis_version 7.2.4 for client compatibility, its own in valkey_version.
  const valkey = info.get("valkey_version");
  if (valkey || info.get("server_name") === "valkey") {
    return { server: "valkey", version: valkey ?? info.get("redis_version") ?? "0.0.0" };
  }
  return { server: "redis", version: info.get("redis_version") ?? "0.0.0" };
}

export async function gatherFacts(client: Redis, address: string): Promise<NodeFacts> {
  const info = parseInfo(String(await client.info("everything").catch(() => client.info())));
  const facts: NodeFacts = {
    address,
    client,
    info,
    version: serverVersion(info),
    config: null,
    modules: null,
    keyspace: parseKeyspace(info),
  };
  try {
    const config = new Map<CheckedConfig, string>();
    for (const name of CHECKED_CONFIG) {
      const reply = (await client.call("CONFIG", "GET", name)) as string[];
      if (reply[1] !== undefined) config.set(name, String(reply[1]));
    }
    facts.config = config;
  } catch (err) {
    facts.configError = (err as Error).message;
  }
  try {
    const reply = (await client.call("MODULE", "LIST")) as unknown[][];
    facts.modules = reply.map((m) => {
      const i = m.findIndex((v) => String(v) === "name");
      return String(m[i + 1]);
    });
  } catch {
    facts.modules = null;
  }
  return facts;
}

export function infoNumber(facts: NodeFacts, name: string): number {
  return Number(facts.info.get(name) ?? Number.NaN);
}

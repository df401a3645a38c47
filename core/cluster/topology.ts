/**
 * Cluster topology: who serves which slots. Read with `CLUSTER SHARDS` (Redis ≥ 7.0), falling back
 * to `CLUSTER NODES` on older servers (and on Valkey/Redis builds that rename or block SHARDS).
 * Both views list failed nodes too: a killed master stays listed with `fail` until it is forgotten,
 * next to the replica promoted in its place — so a shard's master is the one that is healthy.
 */
import type { Redis } from "ioredis";
import { RetryableError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { connectNode, nodeAddress } from "./connect.ts";

export interface ClusterNode {
  id: string;
  host: string;
  port: number;
}

/** One master and the slots it serves, with its replicas. */
export interface ClusterShard extends ClusterNode {
  /** Inclusive [start, end] ranges, ascending. */
  slots: Array<[number, number]>;
  replicas: ClusterNode[];
}

type Reply = string | number | Buffer | null | Reply[];

/** Parse a `CLUSTER SHARDS` reply (RESP2 flat maps). Only shards with a healthy master and slots count. */
export function parseClusterShards(reply: unknown): ClusterShard[] {
  const shards: ClusterShard[] = [];
  for (const raw of asArray(reply)) {
    const shard = asMap(raw);
    const flat = asArray(shard.get("slots")).map(Number);
    const slots: Array<[number, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) slots.push([flat[i]!, flat[i + 1]!]);
    let master: ClusterNode | null = null;
    const replicas: ClusterNode[] = [];
    for (const rawNode of asArray(shard.get("nodes"))) {
      const node = asMap(rawNode);
      const health = String(node.get("health") ?? "online");
      const host = String(node.get("endpoint") ?? node.get("ip") ?? "");
      const info = {
        id: String(node.get("id")),
        host: host === "?" ? "" : host,
        port: Number(node.get("port")),
      };
      // "loading" is a replica still syncing (listed, usable later); "fail" is gone.
      if (health === "fail" || !info.host) continue;
      if (String(node.get("role")) === "master") {
        if (health === "online") master = info;
      } else replicas.push(info);
    }
    if (master && slots.length > 0) shards.push({ ...master, slots: sortRanges(slots), replicas });
  }
  return shards;
}

/** Parse `CLUSTER NODES` text. Masters flagged fail/handshake/noaddr are skipped. */
export function parseClusterNodes(text: string): ClusterShard[] {
  const masters = new Map<string, ClusterShard>();
  const replicaOf: Array<[string, ClusterNode]> = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    if (fields.length < 8) continue;
    const [id, addr, flagText, masterId] = fields as [string, string, string, string];
    const flags = flagText.split(",");
    if (flags.some((f) => f === "fail" || f === "handshake" || f === "noaddr")) continue;
    // ip:port@cport[,hostname]
    const hostPort = addr.split("@")[0] ?? "";
    const colon = hostPort.lastIndexOf(":");
    const node = { id, host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) };
    if (!node.host || !node.port) continue;
    if (flags.includes("master")) {
      const slots: Array<[number, number]> = [];
      for (const spec of fields.slice(8)) {
        if (spec.startsWith("[")) continue; // [slot->-id] / [slot-<-id]: migration in progress, not ownership
        const [from, to] = spec.split("-");
        slots.push([Number(from), Number(to ?? from)]);
      }
      masters.set(id, { ...node, slots: sortRanges(slots), replicas: [] });
    } else if (masterId !== "-") replicaOf.push([masterId, node]);
  }
  for (const [masterId, node] of replicaOf) masters.get(masterId)?.replicas.push(node);
  return [...masters.values()].filter((m) => m.slots.length > 0);
}

/** Ask one node for the topology; CLUSTER NODES if CLUSTER SHARDS is unknown (Redis < 7). */
export async function fetchShards(client: Redis): Promise<ClusterShard[]> {
  try {
    return parseClusterShards(await client.call("CLUSTER", "SHARDS"));
  } catch (err) {
    if (!/unknown subcommand|unknown command|ERR.*SHARDS/i.test(String(err))) throw err;
    return parseClusterNodes(String(await client.call("CLUSTER", "NODES")));
  }
}

/**
 * Try each candidate node until one answers. Credentials/TLS come from `base`; addresses from
 * `candidates` (seeds first, then every node seen so far).
 */
export async function discoverShards(
  base: RedisEndpoint,
  candidates: ReadonlyArray<{ host: string; port: number }>,
): Promise<ClusterShard[]> {
  const errors: string[] = [];
  for (const candidate of candidates) {
    const client = connectNode(base, candidate, { connectTimeoutMs: 3000 });
    try {
      const shards = await fetchShards(client);
      if (shards.length > 0) return shards;
      errors.push(`${nodeAddress(candidate)}: no master serves any slot`);
    } catch (err) {
      errors.push(`${nodeAddress(candidate)}: ${(err as Error).message}`);
    } finally {
      client.disconnect();
    }
  }
  throw new RetryableError(
    `could not read the cluster topology from any node (${errors.join("; ")})`,
    "check that the cluster is reachable and that the user may run CLUSTER SHARDS / CLUSTER NODES",
  );
}

export function sortRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  return ranges.sort((a, b) => a[0] - b[0]);
}

function asArray(value: unknown): Reply[] {
  return Array.isArray(value) ? (value as Reply[]) : [];
}

/** RESP2 encodes maps as [k1, v1, k2, v2…]; RESP3 clients may already give objects. */
function asMap(value: unknown): Map<string, Reply> {
  const map = new Map<string, Reply>();
  if (Array.isArray(value)) {
    for (let i = 0; i + 1 < value.length; i += 2) map.set(String(value[i]), value[i + 1] as Reply);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) map.set(k, v as Reply);
  }
  return map;
}

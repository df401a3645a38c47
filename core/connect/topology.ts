/**
 * Standalone or cluster, and for a cluster every master with its endpoint: ferry needs one replica
 * channel (or one SCAN) per master. CLUSTER SHARDS is Redis 7.0+; older servers get CLUSTER NODES.
 */
import type { Redis } from "ioredis";
import { FatalError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";

export interface ClusterMaster {
  /** Cluster node id (40 hex chars). */
  id: string;
  endpoint: RedisEndpoint;
  /** Inclusive slot ranges served by this master. */
  slots: Array<[number, number]>;
}

export type Topology = { kind: "standalone" } | { kind: "cluster"; masters: ClusterMaster[] };

/**
 * `seed` supplies credentials and TLS settings for the masters found (a cluster uses the same ACL
 * users on every node); masters without slots are left out — they hold no data.
 */
export async function detectTopology(client: Redis, seed: RedisEndpoint): Promise<Topology> {
  const info = String(await client.info("cluster"));
  if (!/cluster_enabled:1/.test(info)) return { kind: "standalone" };
  let masters: Array<Omit<ClusterMaster, "endpoint"> & { host: string; port: number }>;
  try {
    masters = parseClusterShards(await client.call("CLUSTER", "SHARDS"));
  } catch (err) {
    // Redis < 7 answers "unknown subcommand"; then the older, textual view.
    if (!/unknown subcommand|unknown command/i.test((err as Error).message)) throw err;
    masters = parseClusterNodes(String(await client.call("CLUSTER", "NODES")));
  }
  masters = masters.filter((m) => m.slots.length > 0);
  if (masters.length === 0) {
    throw new FatalError(
      "the cluster has no master serving slots",
      "finish setting the cluster up (CLUSTER ADDSLOTS)",
    );
  }
  return {
    kind: "cluster",
    masters: masters.map(({ host, port, id, slots }) => ({
      id,
      slots,
      endpoint: {
        ...seed,
        host,
        port,
        ...(seed.tls ? { tls: { ...seed.tls, servername: seed.tls.servername ?? host } } : {}),
      },
    })),
  };
}

/** CLUSTER SHARDS: [[ "slots", [a, b, …], "nodes", [[ "id", …, "ip", …, "port", …, "role", … ], …] ], …]. */
export function parseClusterShards(
  reply: unknown,
): Array<Omit<ClusterMaster, "endpoint"> & { host: string; port: number }> {
  const out: Array<Omit<ClusterMaster, "endpoint"> & { host: string; port: number }> = [];
  for (const shard of asArray(reply)) {
    const fields = pairs(shard);
    const flat = asArray(fields.get("slots")).map(Number);
    const slots: Array<[number, number]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) slots.push([flat[i]!, flat[i + 1]!]);
    for (const node of asArray(fields.get("nodes"))) {
      const n = pairs(node);
      if (String(n.get("role")) !== "master" || String(n.get("health")) === "fail") continue;
      const endpoint = String(n.get("endpoint") ?? "?");
      const host = endpoint !== "?" && endpoint !== "" ? endpoint : String(n.get("ip"));
      const port = Number(n.get("port") ?? n.get("tls-port"));
      out.push({ id: String(n.get("id")), host, port, slots });
    }
  }
  return out;
}

/** CLUSTER NODES lines: `<id> <ip:port@cport[,hostname]> <flags> <master> … <slot|a-b> …`. */
export function parseClusterNodes(
  text: string,
): Array<Omit<ClusterMaster, "endpoint"> & { host: string; port: number }> {
  const out: Array<Omit<ClusterMaster, "endpoint"> & { host: string; port: number }> = [];
  for (const line of text.split("\n")) {
    const parts = line.trim().split(" ");
    const [id, address, flags] = parts;
    if (!id || !address || !flags) continue;
    const flagSet = flags.split(",");
    if (!flagSet.includes("master") || flagSet.includes("fail") || flagSet.includes("noaddr")) continue;
    const hostPort = address.split("@")[0] ?? "";
    const colon = hostPort.lastIndexOf(":");
    const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    const port = Number(hostPort.slice(colon + 1));
    const slots: Array<[number, number]> = [];
    for (const token of parts.slice(8)) {
      if (token.startsWith("[")) continue; // a slot being migrated/imported, still owned elsewhere
      const [a, b] = token.split("-");
      slots.push([Number(a), Number(b ?? a)]);
    }
    out.push({ id, host, port, slots });
  }
  return out;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** RESP2 map-as-flat-array → Map (RESP3 would give a real map; ioredis speaks RESP2). */
function pairs(value: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  const arr = asArray(value);
  for (let i = 0; i + 1 < arr.length; i += 2) map.set(String(arr[i]), arr[i + 1]);
  return map;
}

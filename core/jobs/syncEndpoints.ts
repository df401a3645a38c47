/**
 * What a sync job learns about its two sides before the first byte is copied: the source's shards
 * (one per master), the target's kind and version, its command table; and the writer and lag
 * connections built from that. Every connection error names the side (`--source:` / `--target:`).
 */
import type { Redis } from "ioredis";
import { builtinCommandTable, loadCommandTable } from "../commands/index.ts";
import type { CommandTable } from "../commands/table.ts";
import { connectRedis, detectTopology } from "../connect/index.ts";
import { BadInputError, FatalError, FerryError } from "../errors.ts";
import type { FilterSpec } from "../filters/index.ts";
import type { Logger } from "../observability/logger.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { type TargetInfo, targetInfoFromInfo } from "../snapshot/target.ts";
import { ClusterWriter } from "../writer/cluster.ts";
import { createStandaloneWriter } from "../writer/standalone.ts";
import type { TargetWriter } from "../writer/types.ts";
import type { SyncConfig } from "./syncConfig.ts";

export interface SourceShard {
  id: string;
  endpoint: RedisEndpoint;
  /** Cluster node id of the master (cluster sources). */
  nodeId?: string;
}

export interface Endpoints {
  sourceShards: SourceShard[];
  targetIsCluster: boolean;
  target: TargetInfo;
  commandTable: CommandTable;
}

/**
 * Connects to both sides, reads their topology, and checks what can be refused up front (a cluster
 * target and source dbs it cannot hold). `spec` gets the default db map of a cluster target.
 */
export async function inspectEndpoints(config: SyncConfig, spec: FilterSpec): Promise<Endpoints> {
  const sourceClient = await connectRedis(config.source, { name: "ferry-inspect" }).catch(naming("source"));
  // An open connection keeps the process alive: a target that cannot be reached must not leave
  // the source's inspection client behind (the CLI would print the error and never exit).
  const targetClient = await connectRedis(config.target, { name: "ferry-inspect" }).catch((err: unknown) => {
    sourceClient.disconnect();
    return naming("target")(err);
  });
  try {
    const sourceTopology = await detectTopology(sourceClient, config.source);
    const targetIsCluster = (await detectTopology(targetClient, config.target)).kind === "cluster";
    const { target, commandTable } = await describeTarget(targetClient);
    const sourceShards: SourceShard[] =
      sourceTopology.kind === "standalone"
        ? [{ id: "standalone", endpoint: config.source }]
        : sourceTopology.masters.map((m) => ({
            // Slots identify a shard across failovers (a promoted replica has another node id).
            id: `slots-${m.slots[0]?.[0] ?? 0}-${m.slots[0]?.[1] ?? 0}`,
            endpoint: { ...config.source, host: m.endpoint.host, port: m.endpoint.port },
            nodeId: m.id,
          }));
    if (targetIsCluster) await checkClusterDbs(sourceClient, sourceTopology.kind === "cluster", spec);
    return { sourceShards, targetIsCluster, target, commandTable };
  } finally {
    sourceClient.disconnect();
    targetClient.disconnect();
  }
}

/** The target's server version (RESTORE payload compatibility) and its command key table. */
export async function describeTarget(
  client: Redis,
): Promise<{ target: TargetInfo; commandTable: CommandTable }> {
  const target = targetInfoFromInfo(await client.info("server"));
  const commandTable = await loadCommandTable(client).catch(() => builtinCommandTable);
  return { target, commandTable };
}

/** The job's filters with its db map folded in (the map may come from the config or the filters). */
export function filterSpecFor(config: SyncConfig, filters: FilterSpec | undefined): FilterSpec {
  const spec: FilterSpec = { ...(filters ?? {}) } as FilterSpec;
  if (config.dbMap && !spec.dbMap) spec.dbMap = Object.fromEntries(config.dbMap);
  return spec;
}

/** Is the target a cluster? (For work that needs only a writer, such as removing markers.) */
export async function targetIsCluster(config: SyncConfig): Promise<boolean> {
  const client = await connectRedis(config.target, { name: "ferry-cleanup" }).catch(naming("target"));
  try {
    return (await detectTopology(client, config.target)).kind === "cluster";
  } finally {
    client.disconnect();
  }
}

export function openWriter(
  config: SyncConfig,
  cluster: boolean,
  commandTable: CommandTable,
  log?: Logger,
): Promise<TargetWriter> {
  return cluster
    ? ClusterWriter.connect({
        endpoint: config.target,
        markerPrefix: config.markerPrefix,
        commandTable,
        onWarn: (message) => log?.warn(message),
      })
    : createStandaloneWriter({
        target: config.target,
        markerPrefix: config.markerPrefix,
        markerDb: config.markerDb,
      });
}

/**
 * The source-offset poller's connection: it must outlive any source restart or network cut, and
 * must not leave orphaned commands whose 60 s timers keep a stopped process alive.
 */
export function connectLagClient(endpoint: RedisEndpoint): Promise<Redis> {
  return connectRedis(endpoint, { name: "ferry-lag", longLived: true });
}

/**
 * Connection errors name an address; with two servers in play the user also needs to know which
 * option to fix (and which FERRY_<ROLE>_PASSWORD variable applies).
 */
function naming(role: "source" | "target"): (err: unknown) => never {
  return (err) => {
    if (!(err instanceof FerryError)) throw err;
    const Kind = err.constructor as new (
      message: string,
      advice?: string,
      options?: ErrorOptions,
    ) => FerryError;
    const advice = err.advice?.replace("FERRY_*_", `FERRY_${role.toUpperCase()}_`);
    throw new Kind(`--${role}: ${err.message}`, advice, { cause: err });
  };
}

/**
 * A cluster target has only db 0. Source keys in other dbs need an explicit `--db-map`; refusing
 * up front beats failing on the first command with SELECT.
 */
async function checkClusterDbs(source: Redis, sourceIsCluster: boolean, spec: FilterSpec): Promise<void> {
  if (sourceIsCluster) return;
  const keyspace = await source.info("keyspace");
  const dbs = [...keyspace.matchAll(/^db(\d+):keys=(\d+)/gm)].map((m) => Number(m[1]));
  const map = spec.dbMap ?? {};
  const mapped = Object.keys(map).length > 0;
  const unmapped = dbs.filter((db) => (mapped ? !(String(db) in map) : db !== 0));
  const wrongTarget = Object.entries(map).filter(([, to]) => to !== 0);
  if (wrongTarget.length > 0) {
    throw new BadInputError(
      `--db-map maps to db ${wrongTarget.map(([, to]) => to).join(", ")}, but a cluster target only has db 0`,
      "map every source db to 0, e.g. --db-map 0:0,3:0",
    );
  }
  if (!mapped) spec.dbMap = { "0": 0 };
  if (unmapped.length > 0) {
    throw new FatalError(
      `the source has keys in db ${unmapped.join(", ")}, and the cluster target only has db 0`,
      `map them explicitly, e.g. --db-map 0:0,${unmapped.map((d) => `${d}:0`).join(",")} (keys of those dbs then share db 0), or filter them out with --exclude-db ${unmapped.join(",")}`,
    );
  }
}

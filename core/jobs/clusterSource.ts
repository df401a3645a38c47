/**
 * A cluster source seen from a running job: which master each shard replicates from, kept current
 * across failovers. The job's shards are keyed by slots (`slots-<from>-<to>`), not by node id,
 * because a failover hands the same slots — and, with psync2, the same replication history — to a
 * promoted replica with another node id. Following it is a reconnect: `PSYNC <old replid>
 * <offset+1>` to the new master, which answers +CONTINUE when its backlog still holds our offset.
 */
import { discoverSourceMasters, type TopologyWatch, watchTopology } from "../cluster/sourceShards.ts";
import type { ClusterShard } from "../cluster/topology.ts";
import type { Logger } from "../observability/logger.ts";
import type { RedisEndpoint } from "../replication/types.ts";

export interface FollowedShard {
  /** The job's shard id (stable across failovers). */
  id: string;
  /** Where the shard replicates from now. */
  endpoint: RedisEndpoint;
  /** Cluster node id of that master (filled in by followSourceFailovers when unknown). */
  nodeId?: string;
}

export interface FollowOptions {
  /** Any node of the source cluster; credentials and TLS for every node. */
  seed: RedisEndpoint;
  shards: FollowedShard[];
  log: Logger;
  /** Topology poll interval (default 1000 ms). */
  intervalMs?: number;
  /** A shard's master changed: reconnect its replication link (and anything else bound to it). */
  onSwitch(shard: FollowedShard, to: RedisEndpoint): Promise<void> | void;
}

/** The endpoint of cluster node `node`, with the seed's credentials and TLS settings. */
export function nodeEndpoint(seed: RedisEndpoint, node: { host: string; port: number }): RedisEndpoint {
  return {
    ...seed,
    host: node.host,
    port: node.port,
    ...(seed.tls ? { tls: { ...seed.tls, servername: seed.tls.servername ?? node.host } } : {}),
  };
}

/**
 * Watch the source topology and move each shard to the master that serves its slots after a
 * failover. Masters that appear or vanish without a failover (a master added and given slots, a
 * master emptied and removed) are logged: keys moved to a master this job does not replicate would
 * be missed, so the job must be restarted to pick it up.
 */
export async function followSourceFailovers(opts: FollowOptions): Promise<TopologyWatch> {
  const { log } = opts;
  const initial = await discoverSourceMasters(opts.seed);
  for (const shard of opts.shards) {
    const master = initial.find((m) => m.host === shard.endpoint.host && m.port === shard.endpoint.port);
    if (shard.nodeId === undefined && master) shard.nodeId = master.id;
  }
  const shardOf = (master: ClusterShard): FollowedShard | undefined =>
    opts.shards.find((s) => s.nodeId === master.id) ??
    opts.shards.find((s) => s.endpoint.host === master.host && s.endpoint.port === master.port);

  return watchTopology(
    opts.seed,
    async (change) => {
      for (const failover of change.failovers) {
        const shard = shardOf(failover.from);
        if (!shard) continue;
        const to = nodeEndpoint(opts.seed, failover.to);
        log.warn(
          {
            shard: shard.id,
            from: `${failover.from.host}:${failover.from.port}`,
            to: `${to.host}:${to.port}`,
            promotedReplica: failover.promotedReplica,
          },
          failover.promotedReplica
            ? "source failover: following the promoted replica (PSYNC continues from our offset)"
            : "source failover: another master serves the shard's slots now; reconnecting there",
        );
        shard.nodeId = failover.to.id;
        shard.endpoint = to;
        await opts.onSwitch(shard, to);
      }
      for (const added of change.added) {
        log.warn(
          { master: `${added.host}:${added.port}`, slots: added.slots },
          "a new source master serves slots: keys moved to it are not replicated by this job; restart the job to include it",
        );
      }
      for (const removed of change.removed) {
        log.warn(
          { master: `${removed.host}:${removed.port}` },
          "a source master no longer serves slots (its keys moved to the other masters, which this job replicates)",
        );
      }
    },
    {
      initial,
      ...(opts.intervalMs ? { intervalMs: opts.intervalMs } : {}),
      onError: (err) => log.debug({ error: (err as Error).message }, "source topology poll failed"),
    },
  );
}

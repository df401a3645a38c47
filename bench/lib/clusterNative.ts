/**
 * The native baseline of the cluster scenario: one plain (non-cluster) redis-server per source
 * master, all told `REPLICAOF` at the same moment — what a cluster's own replicas do during a full
 * resync, minus the cluster bus. A non-cluster replica loads a cluster master's RDB and stream as
 * is: replication does not care about cluster mode, only the slot routing of clients does.
 */
import { startRedis } from "../../test/helpers/redis.ts";
import { replicateFully } from "../snapshot.ts";
import type { ClusterMaster } from "./clusterData.ts";

export interface NativeClusterFigures {
  /** Wall time from the first REPLICAOF until the last replica is up with its master's keys. */
  seconds: number;
  /** Per replica, in the masters' order: its own time to up + key count. */
  perReplicaSeconds: number[];
}

export async function nativeClusterSnapshot(
  masters: ClusterMaster[],
  expectedPerMaster: number[],
): Promise<NativeClusterFigures> {
  // Started (and ready) before the clock starts: the figure is the copy, not process start-up.
  const replicas = await Promise.all(masters.map(() => startRedis()));
  try {
    const clients = replicas.map((r) => r.client());
    await Promise.all(clients.map((c) => c.ping()));
    const started = performance.now();
    const perReplicaSeconds = await Promise.all(
      clients.map(async (client, i) => {
        await replicateFully(client, masters[i]!.proc, expectedPerMaster[i]!);
        return (performance.now() - started) / 1000;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(clients.map((c) => c.replicaof("NO", "ONE")));
    return { seconds, perReplicaSeconds };
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

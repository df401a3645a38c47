import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slotTag } from "../../core/cluster/slots.ts";
import {
  discoverSourceMasters,
  type TopologyChange,
  watchTopology,
} from "../../core/cluster/sourceShards.ts";
import { ClusterWriter } from "../../core/writer/cluster.ts";
import { type RedisClusterProc, startCluster, waitFor } from "../helpers/redis.ts";
import { BatchMaker } from "./batches.ts";

describe("ClusterWriter across a target master failover", () => {
  let cluster: RedisClusterProc;
  let writer: ClusterWriter;

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
    const seed = cluster.nodes[0]!;
    writer = await ClusterWriter.connect({
      endpoint: { host: seed.host, port: seed.port },
      seeds: cluster.seeds,
      refreshIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await writer?.close();
    await cluster?.stop();
  });

  it("retries through CLUSTERDOWN/lost links, follows the promoted replica, applies once; watchTopology reports it", async () => {
    const make = new BatchMaker("failover", "s1");
    const counters = [0, 6000, 12000].map((slot) => `{${slotTag(slot)}}counter`);
    const batchOf = () =>
      make.next(counters.flatMap((key) => Array.from({ length: 10 }, () => ["INCR", key])));
    let total = 0;
    for (let i = 0; i < 5; i++) total += (await writer.apply(batchOf())).applied;

    const victim = cluster.nodes[0]!; // master of slots 0–5460
    const seed = cluster.nodes[1]!;
    const changes: TopologyChange[] = [];
    const before = await discoverSourceMasters({ host: seed.host, port: seed.port });
    const watch = watchTopology({ host: seed.host, port: seed.port }, (c) => void changes.push(c), {
      intervalMs: 200,
      initial: before,
    });
    try {
      // Async replication: only kill once the replica has everything, so no acknowledged write is lost.
      const replica = cluster.nodes[3]!.client();
      const master = victim.client();
      await waitFor(async () => {
        const m = /master_repl_offset:(\d+)/.exec(await master.info("replication"))?.[1];
        const r = /master_repl_offset:(\d+)/.exec(await replica.info("replication"))?.[1];
        return m !== undefined && m === r;
      });
      await victim.kill9();
      const started = Date.now();
      for (let i = 0; i < 5; i++) total += (await writer.apply(batchOf())).applied;
      const recoveredMs = Date.now() - started;
      console.log(`failover: writer recovered in ${recoveredMs} ms, stats ${JSON.stringify(writer.stats)}`);

      expect(total).toBe(10 * 30);
      const check = cluster.nodes[3]!.client(); // the promoted replica now owns slot 0
      expect(String(await check.role())).toMatch(/^master/);
      expect(Number(await check.get(counters[0]!))).toBe(100);
      for (const key of counters.slice(1)) {
        const node = key === counters[1] ? cluster.nodes[1]! : cluster.nodes[2]!;
        expect(Number(await node.client().get(key))).toBe(100);
      }
      expect(writer.stats.retries).toBeGreaterThan(0);
      expect(writer.masters()).toContain(`127.0.0.1:${cluster.nodes[3]!.port}`);

      await waitFor(() => changes.some((c) => c.failovers.length > 0), 15_000);
      const failover = changes.flatMap((c) => c.failovers)[0]!;
      expect(failover.from.port).toBe(victim.port);
      expect(failover.to.port).toBe(cluster.nodes[3]!.port);
      expect(failover.promotedReplica).toBe(true);
    } finally {
      watch.stop();
    }
  });
});

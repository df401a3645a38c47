import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClusterProc, type RedisProc, startCluster, waitFor } from "../helpers/redis.ts";
import {
  compareSides,
  masterClients,
  startClusterLoad,
  startJob,
  syncConfig,
  waitCaughtUp,
} from "./harness.ts";

const offsetOf = async (client: Redis): Promise<number> =>
  Number(/master_repl_offset:(\d+)/.exec(await client.info("replication"))?.[1] ?? -1);

describe("ferry sync: cluster → cluster, source failover during the incremental phase", () => {
  let source: RedisClusterProc;
  let target: RedisClusterProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([
      startCluster({ masters: 3, replicasPerMaster: 1 }),
      startCluster({ masters: 3 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("follows CLUSTER FAILOVER and a killed master to the promoted replicas with +CONTINUE", async () => {
    const writer = source.client();
    for (let i = 0; i < 300; i++) await writer.set(`snap:${i}`, `v${i}`);
    const run = await startJob(syncConfig(source.url, target.url));
    let load = startClusterLoad(writer, { seed: 5 });
    await waitFor(() => run.job.status().phase === "streaming", 20_000);
    const [m0, m1] = [source.nodes[0]!, source.nodes[1]!];
    const [r0, r1] = [source.nodes[3]!, source.nodes[4]!];
    const shardAt = (node: RedisProc) =>
      run.job.status().shards.find((s) => s.address === `127.0.0.1:${node.port}`);
    const id0 = shardAt(m0)!.shard;
    const id1 = shardAt(m1)!.shard;

    // 1. Graceful: the replica of master 0 takes over (the old master becomes its replica).
    const r0Client = r0.client();
    await r0Client.cluster("FAILOVER");
    await waitFor(() => shardAt(r0)?.shard === id0 && shardAt(r0)?.phase === "streaming", 20_000);

    // 2. kill -9 master 1 once its replica holds everything it acknowledged (else the source itself
    //    loses writes, and no replica could continue from our offset).
    await load.stop();
    const r1Client = r1.client();
    const m1Client = m1.client();
    await waitFor(async () => (await offsetOf(r1Client)) === (await offsetOf(m1Client)), 10_000);
    m1Client.disconnect();
    await m1.kill9();
    load = startClusterLoad(writer, { seed: 6 });
    await waitFor(() => shardAt(r1)?.shard === id1 && shardAt(r1)?.phase === "streaming", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const sent = await load.stop();

    const masters = await masterClients(source.seeds[2]!);
    expect(masters).toHaveLength(3);
    await waitCaughtUp(run.job, masters);
    for (const m of masters) m.disconnect();

    // Each followed shard continued its history: one full resync per shard (the first), and a
    // +CONTINUE on the promoted replica for both failovers.
    const messages = run.logs.map((l) => String(l["msg"]));
    expect(messages.filter((m) => m.startsWith("full resync"))).toHaveLength(3);
    const continued = run.logs.filter((l) => String(l["msg"]).startsWith("partial resync"));
    expect(new Set(continued.map((l) => l["shard"]))).toEqual(new Set([id0, id1]));
    expect(run.logs.filter((l) => String(l["msg"]).startsWith("source failover"))).toHaveLength(2);
    const status = run.job.status();
    expect(status.shards.map((s) => s.address).sort()).toEqual(
      [`127.0.0.1:${r0.port}`, `127.0.0.1:${r1.port}`, `127.0.0.1:${source.nodes[2]!.port}`].sort(),
    );

    const diffs = await compareSides([{ kind: "cluster", seed: source.seeds[2]! }], {
      kind: "cluster",
      seed: target.seeds[0]!,
    });
    expect(diffs).toEqual([]);
    expect(sent).toBeGreaterThan(100);
    await run.stop();
  });
});

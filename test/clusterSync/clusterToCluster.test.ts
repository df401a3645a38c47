import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClusterProc, startCluster } from "../helpers/redis.ts";
import {
  compareSides,
  masterClients,
  startClusterLoad,
  startJob,
  syncConfig,
  waitCaughtUp,
} from "./harness.ts";

describe("ferry sync: cluster → cluster", () => {
  let source: RedisClusterProc;
  let target: RedisClusterProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([startCluster({ masters: 3 }), startCluster({ masters: 3 })]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("copies the snapshot of every master and the live writes, per slot exactly once", async () => {
    const writer = source.client();
    // Snapshot: same-slot multi-key commands and every data type, spread over the three masters.
    for (let i = 0; i < 300; i++) await writer.set(`snap:${i}`, `v${i}`);
    for (let i = 0; i < 50; i++) await writer.mset(`{t${i}}a`, "1", `{t${i}}b`, "2");
    await writer.rpush("{l}list", "a", "b", "c");
    const job = await startJob(syncConfig(source.url, target.url));
    const load = startClusterLoad(writer, { seed: 3 });
    await new Promise((r) => setTimeout(r, 2500));
    const sent = await load.stop();
    const masters = await masterClients(source.seeds[0]!);
    await waitCaughtUp(job.job, masters);
    const status = job.job.status();
    expect(status.shards).toHaveLength(3);
    expect(new Set(status.shards.map((s) => s.shard)).size).toBe(3);
    for (const shard of status.shards) {
      expect(shard.replid).toMatch(/^[0-9a-f]{40}$/);
      expect(shard.appliedOffset).toBeGreaterThan(0);
    }
    expect(status.totals.keysDone).toBeGreaterThanOrEqual(400);
    expect(status.totals.keysDone).toBe(status.shards.reduce((n, s) => n + s.keysDone, 0));
    expect(status.totals.lagBytes).toBe(status.shards.reduce((n, s) => n + s.lagBytes, 0));
    // One series per source shard in /metrics (labelled with the shard id, not the node address).
    await new Promise((r) => setTimeout(r, 1200));
    const metrics = await job.job.metrics.registry.metrics();
    for (const shard of status.shards) {
      for (const name of ["ferry_applied_offset", "ferry_source_offset", "ferry_lag_bytes"]) {
        const line = metrics
          .split("\n")
          .find((l) => l.startsWith(`${name}{`) && l.includes(`shard="${shard.shard}"`));
        expect(line, `${name} for ${shard.shard}`).toBeDefined();
      }
      const applied = metrics
        .split("\n")
        .find((l) => l.startsWith("ferry_applied_offset{") && l.includes(`shard="${shard.shard}"`))!;
      expect(Number(applied.split(" ").pop())).toBe(shard.appliedOffset);
    }
    const diffs = await compareSides([{ kind: "cluster", seed: source.seeds[0]! }], {
      kind: "cluster",
      seed: target.seeds[0]!,
    });
    expect(diffs).toEqual([]);
    for (const m of masters) m.disconnect();
    await job.stop();
    expect(sent).toBeGreaterThan(500);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVerify } from "../../core/verify/run.ts";
import { type RedisClusterProc, type RedisProc, startCluster, startRedis } from "../helpers/redis.ts";
import { populate } from "./populate.ts";

describe("ferry verify: cluster vs standalone", () => {
  let cluster: RedisClusterProc;
  let standalone: RedisProc;
  beforeAll(async () => {
    [cluster, standalone] = await Promise.all([startCluster({ masters: 3 }), startRedis()]);
    const c = cluster.client();
    const s = standalone.client();
    // Keys spread over all three masters.
    for (const tag of ["a:", "b:", "c:", "d:", "e:"]) {
      await populate(c, tag);
      await populate(s, tag);
    }
    await c.set("__ferry:job:standalone:{a}", "x:1:0");
  });
  afterAll(async () => {
    await Promise.all([cluster?.stop(), standalone?.stop()]);
  });

  const node = (p: { port: number }) => ({ host: "127.0.0.1", port: p.port });

  it("same data → equal, in both directions", async () => {
    const forward = await runVerify({
      source: node(cluster.nodes[0]!),
      target: node(standalone),
      options: { rechecks: 0 },
    });
    expect(forward.differences).toEqual([]);
    expect(forward.counts.checked).toBe(50);
    const backward = await runVerify({
      source: node(standalone),
      target: node(cluster.nodes[2]!),
      options: { rechecks: 0 },
    });
    expect(backward.equal).toBe(true);
    expect(backward.counts.checked).toBe(50);
  });

  it("a key missing on one master of the cluster target is reported", async () => {
    await cluster.client().del("c:zset");
    const report = await runVerify({
      source: node(standalone),
      target: node(cluster.nodes[1]!),
      options: { recheckDelayMs: 10, rechecks: 1 },
    });
    expect(report.differences.map((d) => [d.kind, d.key.toString()])).toEqual([["missing", "c:zset"]]);
  });
});

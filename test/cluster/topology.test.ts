import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffTopology, discoverSourceMasters } from "../../core/cluster/sourceShards.ts";
import { fetchShards, parseClusterNodes } from "../../core/cluster/topology.ts";
import { type RedisClusterProc, startCluster } from "../helpers/redis.ts";

describe("cluster topology discovery", () => {
  let cluster: RedisClusterProc;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("returns the 3 masters with their slot ranges and replicas (CLUSTER SHARDS)", async () => {
    const seed = cluster.nodes[4]!; // a replica works as a seed too
    const masters = await discoverSourceMasters({ host: seed.host, port: seed.port });
    const sorted = [...masters].sort((a, b) => a.slots[0]![0] - b.slots[0]![0]);
    expect(sorted.map((m) => m.slots)).toEqual([[[0, 5460]], [[5461, 10921]], [[10922, 16383]]]);
    expect(sorted.map((m) => m.port)).toEqual(cluster.nodes.slice(0, 3).map((n) => n.port));
    for (const master of sorted) {
      expect(master.id).toMatch(/^[0-9a-f]{40}$/);
      expect(master.replicas).toHaveLength(1);
    }
  });

  it("CLUSTER NODES fallback parses to the same shards", async () => {
    const client = cluster.nodes[0]!.client();
    const viaShards = await fetchShards(client);
    const viaNodes = parseClusterNodes(String(await client.cluster("NODES")));
    const key = (list: typeof viaShards) =>
      list
        .map((s) => `${s.id}@${s.port}:${JSON.stringify(s.slots)}:${s.replicas.map((r) => r.id).join()}`)
        .sort();
    expect(key(viaNodes)).toEqual(key(viaShards));
  });

  it("diffTopology reports a promoted replica as a failover", async () => {
    const before = await discoverSourceMasters({ host: "127.0.0.1", port: cluster.nodes[0]!.port });
    const [failed, ...rest] = before;
    const promoted = { ...failed!.replicas[0]!, slots: failed!.slots, replicas: [] };
    const change = diffTopology(before, [promoted, ...rest]);
    expect(change?.failovers).toHaveLength(1);
    expect(change?.failovers[0]?.from.id).toBe(failed!.id);
    expect(change?.failovers[0]?.to.id).toBe(promoted.id);
    expect(change?.failovers[0]?.promotedReplica).toBe(true);
    expect(diffTopology(before, before)).toBeNull();
  });
});

/**
 * The cluster bench's fill and count: the seeded dataset must land on the master serving each key's
 * slot (a write to another master is a MOVED error, which the router turns into a throw), and the
 * copied-key count must leave ferry's markers out (a cluster target holds one per slot written).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clusterKeys,
  clusterMasters,
  fillCluster,
  keysPerMaster,
  slotOwners,
} from "../../bench/lib/clusterData.ts";
import { totalKeys } from "../../bench/lib/keyspace.ts";
import { slotOf } from "../../core/cluster/slots.ts";
import { type RedisClusterProc, startCluster } from "../helpers/redis.ts";

describe("slotOwners", () => {
  it("maps every slot to the master whose ranges hold it", () => {
    const owners = slotOwners([
      [
        [0, 99],
        [200, 16383],
      ],
      [[100, 199]],
    ]);
    expect(owners[0]).toBe(0);
    expect(owners[99]).toBe(0);
    expect(owners[100]).toBe(1);
    expect(owners[199]).toBe(1);
    expect(owners[200]).toBe(0);
    expect(owners[16383]).toBe(0);
  });

  it("refuses a slot no master serves (its keys would be lost)", () => {
    expect(() => slotOwners([[[0, 16000]]])).toThrow(/slot 16001 has no master/);
  });
});

describe("fillCluster / clusterKeys on a real 3-master cluster", () => {
  let cluster: RedisClusterProc;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("spreads the seeded dataset by slot and counts keys without ferry's markers", async () => {
    const masters = await clusterMasters(cluster);
    expect(masters).toHaveLength(3);
    const dataset = await fillCluster(masters, 3000, 300);
    expect(dataset.keys).toBe(3004);
    const perMaster = await keysPerMaster(masters);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(3004);
    // An even split of the slots gives each master about a third.
    for (const n of perMaster) expect(n).toBeGreaterThan(800);
    // Each key sits on the master whose slots hold it.
    const owners = slotOwners(masters.map((m) => m.slots));
    for (const [index, m] of masters.entries()) {
      const [, keys] = await m.client.scan("0", "COUNT", 50);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) expect(owners[slotOf(key)]).toBe(index);
    }
    // A big key is whole on its slot's master (any other master would answer MOVED).
    expect(await masters[owners[slotOf("big:hash")]!]!.client.hlen("big:hash")).toBe(300);

    // Markers, as ferry writes them on a cluster target: a hash tag per slot.
    const client = cluster.client();
    await client.set("__ferry:job:shard{a}", "r:1:0");
    await client.set("__ferry:job:shard{b}", "r:1:0");
    expect(await clusterKeys(masters)).toBe(3004);
    let raw = 0;
    for (const m of masters) raw += await totalKeys(m.client);
    expect(raw).toBe(3006);
  });
});

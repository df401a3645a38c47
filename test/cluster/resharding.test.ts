import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slotOf, slotTag } from "../../core/cluster/slots.ts";
import { ClusterWriter } from "../../core/writer/cluster.ts";
import { type RedisClusterProc, sleep, startCluster } from "../helpers/redis.ts";
import { BatchMaker } from "./batches.ts";

/** Moves `slot` from `from` to `to` the way redis-cli --cluster reshard does, slowly, key batch by key batch. */
async function migrateSlot(
  slot: number,
  from: Redis,
  to: Redis,
  toPort: number,
  all: Redis[],
): Promise<number> {
  const [fromId, toId] = [String(await from.cluster("MYID")), String(await to.cluster("MYID"))];
  await to.cluster("SETSLOT", slot, "IMPORTING", fromId);
  await from.cluster("SETSLOT", slot, "MIGRATING", toId);
  let moved = 0;
  for (;;) {
    const keys = (await from.cluster("GETKEYSINSLOT", slot, 5)) as string[];
    if (keys.length === 0) break;
    await from.migrate("127.0.0.1", toPort, "", 0, 5000, "KEYS", ...keys);
    moved += keys.length;
    await sleep(40); // let the writer run between key moves: it sees ASK and TRYAGAIN
  }
  for (const node of all) await node.cluster("SETSLOT", slot, "NODE", toId);
  return moved;
}

describe("ClusterWriter during target resharding", () => {
  let cluster: RedisClusterProc;
  let writer: ClusterWriter;
  const warnings: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
    const seed = cluster.nodes[0]!;
    writer = await ClusterWriter.connect({
      endpoint: { host: seed.host, port: seed.port },
      refreshIntervalMs: 0, // only MOVED may teach the writer the new owner
      onWarn: (m) => warnings.push(m),
    });
  });
  afterAll(async () => {
    await writer?.close();
    await cluster?.stop();
  });

  it("follows ASK/TRYAGAIN/MOVED while a slot migrates; every command applied once", async () => {
    const slot = 100; // owned by node 0
    const tag = slotTag(slot);
    expect(slotOf(`{${tag}}x`)).toBe(slot);
    const admin = cluster.nodes.map((n) => n.client());
    const make = new BatchMaker("reshard", "s1");
    // Seed the slot with keys so the migration has work to do while batches come in.
    await writer.apply(make.next(Array.from({ length: 60 }, (_, i) => ["SET", `{${tag}}seed:${i}`, "v"])));

    const expected = new Map<string, number>();
    let stop = false;
    let applied = 0;
    const load = (async () => {
      let n = 0;
      while (!stop || n < 5) {
        const argvs: string[][] = [];
        for (let i = 0; i < 20; i++) {
          const key = i % 2 === 0 ? `{${tag}}counter:${i % 6}` : `other:${n}:${i}`;
          argvs.push(["INCR", key]);
          expected.set(key, (expected.get(key) ?? 0) + 1);
        }
        argvs.push(["MSET", `{${tag}}m:${n}`, "1", `elsewhere:${n}`, "2"]);
        const batch = make.next(argvs);
        applied += (await writer.apply(batch)).applied;
        if (n % 3 === 0) expect((await writer.apply(batch)).applied).toBe(0); // redelivery mid-migration
        n++;
      }
      return n;
    })();
    await sleep(100);
    const moved = await migrateSlot(slot, admin[0]!, admin[1]!, cluster.nodes[1]!.port, admin);
    stop = true;
    const batches = await load;

    expect(moved).toBeGreaterThan(60);
    console.log(
      `resharding: ${batches} batches, ${moved} keys moved, writer stats ${JSON.stringify(writer.stats)}`,
    );
    expect(writer.stats.moved).toBeGreaterThan(0);
    expect(writer.stats.ask + writer.stats.retries).toBeGreaterThan(0);
    expect(applied).toBe(batches * 21);
    const check = cluster.client();
    for (const [key, count] of expected) expect(Number(await check.get(key))).toBe(count);
    for (let n = 0; n < batches; n++) expect(await check.get(`{${tag}}m:${n}`)).toBe("1");
    // The slot (and its marker) now live on node 1.
    expect(Number(await admin[1]!.cluster("COUNTKEYSINSLOT", slot))).toBeGreaterThan(60);
    expect(Number(await admin[0]!.cluster("COUNTKEYSINSLOT", slot))).toBe(0);
    expect(await admin[1]!.exists(`__ferry:{${tag}}reshard:s1`)).toBe(1);
  });
});

import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SyncJob } from "../../core/jobs/syncJob.ts";
import { createLogger } from "../../core/observability/logger.ts";
import { startLoad } from "../helpers/load.ts";
import { type RedisClusterProc, type RedisProc, startCluster, startRedis } from "../helpers/redis.ts";
import {
  compareSides,
  masterClients,
  startClusterLoad,
  startJob,
  syncConfig,
  waitCaughtUp,
} from "./harness.ts";

describe("ferry sync: standalone → cluster", () => {
  let source: RedisProc;
  let target: RedisClusterProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startCluster({ masters: 3 })]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("refuses a source db that is not mapped to db 0, naming the --db-map to use", async () => {
    const c = source.client();
    await c.select(3);
    await c.set("in-db-3", "x");
    await c.select(0);
    const log = createLogger({ level: "silent" });
    const open = SyncJob.open({ config: syncConfig(source.url, target.url), log });
    await expect(open).rejects.toThrow(/source has keys in db 3, and the cluster target only has db 0/);
    await expect(open).rejects.toMatchObject({ advice: expect.stringContaining("--db-map 0:0,3:0") });
  });

  it("maps db 0 and 3 onto db 0 and splits cross-slot MSET/DEL/MULTI per slot", async () => {
    const c = source.client();
    for (let i = 0; i < 200; i++) await c.mset(`a:${i}`, `${i}`, `{g${i % 20}}x`, `${i}`);
    await c.select(3);
    for (let i = 0; i < 100; i++) await c.rpush(`db3list:${i}`, "a", "b");
    await c.select(0);
    const dbMap = new Map([
      [0, 0],
      [3, 0],
    ]);
    const run = await startJob(syncConfig(source.url, target.url, { dbMap }));
    // The shared load's DEL and MULTI span slots, and its other-db writes go to db 3.
    const load = startLoad({ url: source.url, seed: 11, otherDb: 3 });
    for (let round = 0; round < 60; round++) {
      const p = c.pipeline();
      const n = round * 7;
      p.mset(`a:${n % 200}`, `r${round}`, `b:${n % 50}`, `r${round}`, `c:${n % 30}`, `r${round}`); // cross-slot
      p.mset(`{g${round % 20}}x`, `r${round}`, `{g${round % 20}}y`, `r${round}`); // one slot
      p.del(`a:${(n + 3) % 200}`, `b:${(n + 1) % 50}`); // cross-slot
      p.incr(`b:${n % 50}:n`);
      await p.exec();
      await new Promise((r) => setTimeout(r, 20));
    }
    const sent = await load.stop();
    await waitCaughtUp(run.job, [c]);
    const db0 = new Redis(source.port, "127.0.0.1");
    const db3 = new Redis(source.port, "127.0.0.1");
    const diffs = await compareSides(
      [
        { kind: "standalone", client: db0, db: 0 },
        { kind: "standalone", client: db3, db: 3 },
      ],
      { kind: "cluster", seed: target.seeds[0]! },
    );
    db0.disconnect();
    db3.disconnect();
    expect(diffs).toEqual([]);
    expect(sent).toBeGreaterThan(500);
    // The keys really are spread over the three target masters.
    const masters = await masterClients(target.seeds[0]!);
    for (const m of masters) {
      expect(await m.dbsize()).toBeGreaterThan(50);
      m.disconnect();
    }
    await run.stop();
  });
});

describe("ferry sync: cluster → standalone", () => {
  let source: RedisClusterProc;
  let target: RedisProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([startCluster({ masters: 3 }), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("merges the three masters' snapshots and streams into one server", async () => {
    const writer = source.client();
    for (let i = 0; i < 300; i++) await writer.set(`snap:${i}`, `v${i}`);
    for (let i = 0; i < 50; i++) await writer.mset(`{t${i}}a`, "1", `{t${i}}b`, "2");
    const run = await startJob(syncConfig(source.url, target.url));
    const load = startClusterLoad(writer, { seed: 9 });
    await new Promise((r) => setTimeout(r, 2000));
    const sent = await load.stop();
    const masters = await masterClients(source.seeds[0]!);
    await waitCaughtUp(run.job, masters);
    for (const m of masters) m.disconnect();
    const status = run.job.status();
    expect(status.shards.map((s) => s.shard).sort()).toEqual([
      "slots-0-5460",
      "slots-10922-16383",
      "slots-5461-10921",
    ]);
    expect(status.totals.keysDone).toBe(status.shards.reduce((n, s) => n + s.keysDone, 0));
    const targetClient = new Redis(target.port, "127.0.0.1");
    const diffs = await compareSides([{ kind: "cluster", seed: source.seeds[0]! }], {
      kind: "standalone",
      client: targetClient,
    });
    // One shard marker per source master on the standalone target.
    const markers = await targetClient.keys("__ferry:*");
    targetClient.disconnect();
    expect(diffs).toEqual([]);
    expect(markers.length).toBeGreaterThanOrEqual(3);
    expect(sent).toBeGreaterThan(300);
    await run.stop();
  });
});

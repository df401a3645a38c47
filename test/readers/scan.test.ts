/**
 * Issue #12, scan mode: SCAN + DUMP/RESTORE + keyspace notifications against real servers. A live
 * load (every type, non-idempotent commands, MULTI, a second db, deletes, TTLs) runs through the
 * first scan; the target must then converge to the source, including deletes and expirations.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FatalError } from "../../core/errors.ts";
import { SyncJob } from "../../core/jobs/syncJob.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import type { ScanShardStatus } from "../../core/readers/scan/scanShard.ts";
import { fillDataset, startLoad } from "../helpers/load.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { differences, syncConfig } from "../sync/setup.ts";

function shardStatus(job: SyncJob): ScanShardStatus {
  const reader = job.status().reader;
  if (reader?.mode !== "scan") throw new Error("not a scan-mode job");
  return reader.shards[0]!;
}

const KEA = { "notify-keyspace-events": "KEA" };

async function openScan(source: RedisProc, target: RedisProc, maxDirtyKeys?: number): Promise<SyncJob> {
  return SyncJob.open({
    config: syncConfig(source.url, target.url, { job: "scan-test" }),
    log: silentLogger(),
    sourceMode: "scan",
    ...(maxDirtyKeys ? { scanTuning: { maxDirtyKeys, scanCount: 100 } } : {}),
  });
}

describe("scan mode", () => {
  let source: RedisProc;
  let target: RedisProc;
  let src: Redis;
  let dst: Redis;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis({ config: KEA }), startRedis()]);
    src = source.client();
    dst = target.client();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("copies every type with TTLs under a live load, then follows changes to identical", async () => {
    await fillDataset(src, { keys: 400 });
    // Binary key and value, a stream with a consumer group, a key expiring soon.
    await src.set(Buffer.from([0xff, 0x00, 0x0a]), Buffer.from([0x00, 0xfe]));
    await src.xadd("stream:grp", "1-1", "f", "v");
    await src.xgroup("CREATE", "stream:grp", "g1", "0");
    await src.set("short-lived", "x", "PX", 1500);
    const load = startLoad({ url: source.url, seed: 5, keys: 300 });
    const job = await openScan(source, target);
    const running = job.run();
    try {
      await waitFor(() => shardStatus(job).scans > 0, 20_000);
      await sleep(500);
      const sent = await load.stop();
      expect(sent).toBeGreaterThan(500);

      // Deletes and expirations after the scan reach the target through notifications.
      await src.del("stream:grp");
      await src.set("expiring-later", "y", "PX", 300);
      await waitFor(async () => (await dst.exists("expiring-later")) === 1, 10_000);
      await waitFor(async () => (await src.exists("short-lived", "expiring-later")) === 0, 5_000);
      await waitFor(async () => (await differences(src, dst, [0, 1])).length === 0, 20_000, 300);
      expect(await differences(src, dst, [0, 1])).toEqual([]);
      expect(await dst.exists("stream:grp", "short-lived", "expiring-later")).toBe(0);
      expect(await dst.getBuffer(Buffer.from([0xff, 0x00, 0x0a]))).toEqual(Buffer.from([0x00, 0xfe]));

      const shard = shardStatus(job);
      expect(shard.keysCopied).toBeGreaterThan(400);
      expect(shard.keysDeleted).toBeGreaterThan(0);
      expect(shard.notifications).toBeGreaterThan(500);
      expect(shard.dirtyKeys).toBe(0);
      expect(shard.oldestDirtyMs).toBe(0);
      expect(job.status().phase).toBe("synced");
    } finally {
      await job.stop();
      await running;
    }
  });

  it("rescans when the dirty-key bound overflows, and still converges", async () => {
    await Promise.all([src.flushall(), dst.flushall()]);
    await fillDataset(src, { keys: 100, seed: 3 });
    const job = await openScan(source, target, 20);
    const running = job.run();
    try {
      await waitFor(() => shardStatus(job).scans > 0, 20_000);
      // 200 distinct keys at once: far beyond 20 dirty keys.
      const p = src.pipeline();
      for (let i = 0; i < 200; i++) p.set(`burst:${i}`, `v${i}`);
      await p.exec();
      await waitFor(async () => (await differences(src, dst, [0, 1])).length === 0, 20_000, 300);
      const shard = shardStatus(job);
      expect(shard.rescans.overflow).toBeGreaterThan(0);
      expect(shard.scans).toBeGreaterThan(1);
    } finally {
      await job.stop();
      await running;
    }
  });

  it("a lost notification link rescans, and deletes made meanwhile are reconciled", async () => {
    await Promise.all([src.flushall(), dst.flushall()]);
    await src.set("gone:1", "x");
    await src.set("stays", "y");
    const job = await openScan(source, target);
    const running = job.run();
    try {
      await waitFor(async () => (await dst.exists("gone:1")) === 1 && shardStatus(job).scans > 0, 20_000);
      // CLIENT KILL frees the subscriber at once, so the DEL in the same transaction notifies nobody.
      await src.multi().call("CLIENT", "KILL", "TYPE", "pubsub").del("gone:1").set("new:1", "z").exec();
      await waitFor(() => shardStatus(job).rescans.disconnect > 0, 10_000);
      await waitFor(
        async () => (await dst.exists("gone:1")) === 0 && (await dst.exists("new:1")) === 1,
        10_000,
      );
      expect(await differences(src, dst, [0])).toEqual([]);
      // Notifications flow again after the reconnect.
      await src.set("after:1", "w");
      await waitFor(async () => (await dst.get("after:1")) === "w", 10_000);
    } finally {
      await job.stop();
      await running;
    }
  });

  it("refuses a source without keyspace notifications, naming the CONFIG SET to run", async () => {
    const plain = await startRedis();
    try {
      const job = await openScan(plain, target);
      const error = await job.run().catch((err: unknown) => err);
      expect(error).toBeInstanceOf(FatalError);
      expect((error as FatalError).message).toContain('notify-keyspace-events ""');
      expect((error as FatalError).advice).toContain("CONFIG SET notify-keyspace-events KEA");
      expect((error as FatalError).advice).toContain("parameter group");
    } finally {
      await plain.stop();
    }
  });
});

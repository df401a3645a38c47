/**
 * Issue #4: a snapshot of every data type (streams with groups/PEL, expiries, several dbs, big keys
 * on the chunked path) over both transfer kinds — diskless (`$EOF:` mark) and disk-based (`$<len>`)
 * — leaves a target identical to the source.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markerKey } from "../../core/writer/marker.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { BIG_ELEMENTS, BIG_HASH, BIG_LIST, DATASET_DBS, fillAllTypes, streamGroups } from "./dataset.ts";
import { differences, masterOffset, openJob } from "./setup.ts";

describe.each([
  { transfer: "diskless", diskless: true },
  { transfer: "disk-based", diskless: false },
])("snapshot of every type ($transfer transfer)", ({ diskless }) => {
  let source: RedisProc;
  let target: RedisProc;
  let src: Redis;
  let dst: Redis;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis({ diskless }), startRedis()]);
    src = source.client();
    dst = target.client();
    await fillAllTypes(src);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("copies everything, chunks the big keys, and ends at the source's offset", async () => {
    const job = await openJob(source.url, target.url, { untilSynced: true, bigKeyThreshold: 16 * 1024 });
    const status = await job.run();

    expect(status.phase).toBe("stopped");
    expect(status.errors).toEqual([]);
    const shard = status.shards[0]!;
    // Disk-based transfers announce their size; diskless ones cannot.
    if (diskless) expect(shard.snapshotBytesTotal).toBeNull();
    else expect(shard.snapshotBytesTotal).toBe(shard.snapshotBytesDone);
    expect(shard.appliedOffset).toBe(await masterOffset(src));

    expect(await differences(src, dst, [...DATASET_DBS])).toEqual([]);
    expect(await streamGroups(dst, "stream:s")).toEqual(await streamGroups(src, "stream:s"));
    // The chunked path really ran (RESTORE would not show RPUSH/HSET calls on the target), and
    // the big keys are whole and keep their expiry.
    const stats = await dst.info("commandstats");
    expect(stats).toMatch(/cmdstat_rpush:calls=\d+/);
    expect(stats).toMatch(/cmdstat_hset:calls=\d+/);
    expect(stats).toMatch(/cmdstat_restore:calls=\d+/);
    expect(await dst.llen(BIG_LIST)).toBe(BIG_ELEMENTS);
    expect(await dst.hlen(BIG_HASH)).toBe(BIG_ELEMENTS);
    expect(await dst.call("PEXPIRETIME", BIG_HASH)).toBe(await src.call("PEXPIRETIME", BIG_HASH));
    for (const db of DATASET_DBS) {
      await src.select(db);
      await dst.select(db);
      // +1 in db 0: the marker (and the emptiness record) live there.
      const extra = db === 0 ? 2 : 0;
      expect(await dst.dbsize()).toBe((await src.dbsize()) + extra);
    }
    await src.select(0);
    await dst.select(0);
    const marker = await dst.get(markerKey("__ferry:", "test-job", "standalone"));
    expect(marker).toBe(`${shard.replid}:${shard.appliedOffset}:0`);
  });

  it("keys about to expire keep their deadline: none outlives the source's copy", async () => {
    await Promise.all([src.flushall(), dst.flushall()]);
    const deadline = Date.now() + 1500;
    const p = src.pipeline();
    for (let i = 0; i < 300; i++) p.set(`short:${i}`, "x", "PXAT", deadline + i);
    for (let i = 0; i < 300; i++) p.set(`long:${i}`, "y", "PX", 600_000);
    await p.exec();
    const job = await openJob(source.url, target.url, { untilSynced: true, job: "expiry" });
    await job.run();
    // Copied with their absolute deadline (not a TTL recomputed at write time).
    expect(await dst.call("PEXPIRETIME", "short:0")).toBe(deadline);
    await waitFor(async () => (await src.dbsize()) === 300, 10_000);
    // The target lets them go at the same moment (lazily or actively: SCAN does not return them).
    await sleep(Math.max(0, deadline + 300 - Date.now()));
    expect(await differences(src, dst, [0])).toEqual([]);
    expect((await dst.keys("short:*")).length).toBe(0);
  });
});

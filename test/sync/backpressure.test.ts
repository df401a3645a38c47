/**
 * Issue #4: a slow target with a fast source. The bounded queue between reader and writer must stay
 * under `queueBytes` (the reader stops reading instead of growing the heap), and once the target is
 * fast again everything converges to an identical copy.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncJob } from "../../core/jobs/syncJob.ts";
import { startLoad } from "../helpers/load.ts";
import { type FaultProxy, startProxy } from "../helpers/proxy.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { differences, openJob, waitCaughtUp } from "./setup.ts";

const QUEUE_BYTES = 256 * 1024;

describe("ferry sync with a slow target", () => {
  let source: RedisProc;
  let target: RedisProc;
  let proxy: FaultProxy;
  let src: Redis;
  let dst: Redis;
  let job: SyncJob | undefined;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    proxy = await startProxy(target);
    src = source.client();
    dst = target.client();
  });
  afterAll(async () => {
    await job?.stop();
    await proxy?.close();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("keeps the queue under its byte bound, then converges", async () => {
    job = await openJob(source.url, proxy.url, {
      queueBytes: QUEUE_BYTES,
      // Batches well below the bound, so the bound is strict (a batch larger than the whole bound
      // is admitted alone, by design).
      batch: { maxCommands: 500, maxBytes: 32 * 1024, maxDelayMs: 5 },
    });
    const running = job.run();
    await waitFor(() => job!.status().phase === "streaming", 10_000);

    proxy.setDelay(30);
    const load = startLoad({ url: source.url, seed: 5, keys: 500, pipeline: 200 });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, job!.status().totals.queueBytes);
    }, 10);
    // Slow down until the source is well ahead of the bound (how long that takes depends on how
    // busy the machine is), so the bound was really tested.
    await sleep(1000);
    await waitFor(() => job!.status().totals.lagBytes > 2 * QUEUE_BYTES, 15_000);
    const lagDuringSlowdown = job.status().totals.lagBytes;
    proxy.setDelay(0);
    const sent = await load.stop();
    clearInterval(sampler);

    // The queue filled up (backpressure engaged) but never beyond its bound.
    expect(peak).toBeGreaterThan(QUEUE_BYTES / 2);
    expect(peak).toBeLessThanOrEqual(QUEUE_BYTES);
    expect(lagDuringSlowdown).toBeGreaterThan(2 * QUEUE_BYTES);
    expect(sent).toBeGreaterThan(5000);

    await waitCaughtUp(job, src, 40_000);
    expect(job.status().totals.queueBytes).toBe(0);
    expect(await differences(src, dst, [0, 1])).toEqual([]);
    await job.stop();
    expect((await running).phase).toBe("stopped");
    job = undefined;
  });
});

/**
 * Issue #4: snapshot + live stream under a concurrent write load (non-idempotent commands, MULTI,
 * SELECT, FLUSHDB kept), offset accounting against the source's own view of its replica.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncJob } from "../../core/jobs/syncJob.ts";
import { fillDataset, startLoad } from "../helpers/load.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { differences, openJob, waitCaughtUp } from "./setup.ts";

describe.each([
  { transfer: "diskless", diskless: true },
  { transfer: "disk-based", diskless: false },
])("ferry sync under a live write load ($transfer transfer)", ({ diskless }) => {
  let source: RedisProc;
  let target: RedisProc;
  let src: Redis;
  let dst: Redis;
  let job: SyncJob | undefined;

  beforeAll(async () => {
    // Disk-based: writes made during the BGSAVE are held by the master and sent after the RDB;
    // diskless: the same, but the RDB streams while the fork writes it.
    [source, target] = await Promise.all([startRedis({ diskless }), startRedis()]);
    src = source.client();
    dst = target.client();
  });
  afterAll(async () => {
    await job?.stop();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("applies writes made before, during and after the snapshot exactly once", async () => {
    await fillDataset(src, { keys: 500 });
    const load = startLoad({ url: source.url, seed: 11, keys: 300, flushdb: true });
    await sleep(300);
    job = await openJob(source.url, target.url, {}, { keepFlush: true });
    const running = job.run();
    // Keep writing through the snapshot and well into the stream phase.
    await waitFor(() => job!.status().phase === "streaming", 20_000);
    await sleep(1000);
    const sent = await load.stop();
    expect(sent).toBeGreaterThan(1000);

    const offset = await waitCaughtUp(job, src);
    expect(job.status().totals.lagBytes).toBe(0);
    expect(await differences(src, dst, [0, 1])).toEqual([]);
    // The non-idempotent keys are there with their exact values (a double apply would show).
    const counters = await src.keys("counter:*");
    expect(counters.length).toBeGreaterThan(50);
    for (const key of counters.slice(0, 20)) expect(await dst.get(key)).toBe(await src.get(key));
    const lists = await src.keys("list:*");
    for (const key of lists.slice(0, 20))
      expect(await dst.lrange(key, 0, -1)).toEqual(await src.lrange(key, 0, -1));

    // Offset accounting while idle: the source lists ferry as a replica at its own offset (ACKs
    // carry the applied offset). The master PINGs its replicas every 10 s, which moves the offset:
    // read all three in one go until they agree.
    await waitFor(async () => {
      const info = await src.info("replication");
      const master = /master_repl_offset:(\d+)/.exec(info)?.[1];
      const replica = /slave0:ip=[^,]+,port=\d+,state=online,offset=(\d+),/.exec(info)?.[1];
      const applied = job!.status().shards[0]!.appliedOffset;
      return master !== undefined && replica === master && applied === Number(master);
    }, 5000);

    // A few more writes while streaming are applied too, and the offsets follow.
    await src.incr("after:counter");
    await src.select(1);
    await src.lpush("after:list", "a", "b");
    await src.select(0);
    const later = await waitCaughtUp(job, src);
    expect(later).toBeGreaterThan(offset);
    expect(await differences(src, dst, [0, 1])).toEqual([]);

    await job.stop();
    const status = await running;
    expect(status.phase).toBe("stopped");
    expect(status.shards[0]!.appliedOffset).toBeGreaterThanOrEqual(later);
    job = undefined;
  });
});

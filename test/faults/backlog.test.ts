/**
 * Issue #5: what happens when `+CONTINUE` is impossible or the source drops ferry.
 *
 * - backlog too small (`repl-backlog-size 16kb`) and a long cut with writes → the source answers
 *   `+FULLRESYNC`; ferry logs why and which setting to raise to what, flushes the target (it was
 *   empty at job start) and converges with no stale key.
 * - the source drops ferry for `client-output-buffer-limit replica` (target stalled, ferry stops
 *   reading) → ferry resumes with PSYNC: `+CONTINUE` when the backlog holds the gap, otherwise a
 *   full resync whose log names both settings.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset } from "../helpers/load.ts";
import { type FaultProxy, startProxy } from "../helpers/proxy.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { type FerryProcess, readMarker, startFerry, syncStats, waitCaughtUp } from "./ferryProcess.ts";
import { startSteadyLoad } from "./steadyLoad.ts";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
});

async function servers(sourceConfig: Record<string, string>) {
  const [source, target] = await Promise.all([startRedis({ config: sourceConfig }), startRedis()]);
  cleanup.push(
    () => source.stop(),
    () => target.stop(),
  );
  await fillDataset(source.client(), { keys: 100, seed: 3 });
  return { source, target };
}

function ferry(args: string[]): FerryProcess {
  const process = startFerry(args);
  cleanup.push(() => process.kill9());
  return process;
}

async function streaming(target: RedisProc, job: string): Promise<void> {
  const dst = target.client();
  await waitFor(async () => (await readMarker(dst, job))?.snapshot === false, 30_000, 20);
}

/** Values big enough that a few hundred writes overflow small buffers. */
async function writeBigValues(source: RedisProc, count: number, prefix: string): Promise<void> {
  const client = source.client();
  const value = Buffer.alloc(10_000, 0x61);
  for (let i = 0; i < count; i += 50) {
    const p = client.pipeline();
    for (let j = i; j < Math.min(count, i + 50); j++) p.set(`${prefix}:${j}`, value);
    p.incr("big-writes");
    await p.exec();
  }
}

function sourceLog(source: RedisProc): string {
  return readFileSync(join(source.dir, "redis.log"), "utf8");
}

describe("backlog too small for the outage", () => {
  it("falls back to a full resync, says which setting to raise, flushes and converges", async () => {
    const { source, target } = await servers({ "repl-backlog-size": "16kb" });
    const proxy: FaultProxy = await startProxy(source);
    cleanup.push(() => proxy.close());
    const job = "faults-backlog";
    const src = source.client();
    const doomed = Array.from({ length: 20 }, (_, i) => `doomed:${i}`);
    await src.mset(...doomed.flatMap((key) => [key, "stale if you can see me"]));
    const f = ferry(["--source", proxy.url, "--target", target.url, "--job", job, "--read-timeout", "5000"]);
    await streaming(target, job);
    // 5 s is shorter than the source's default repl-ping-replica-period (10 s): ferry says so.
    const idle = await f.waitLog(
      /^--read-timeout 5000 ms is not longer than the source's repl-ping-replica-period/,
    );
    expect(idle.msg).toMatch(/use --read-timeout 20000 or more$/);
    const load = startSteadyLoad({ url: source.url, seed: 9 });
    await sleep(500);
    expect(await target.client().exists(...doomed)).toBe(doomed.length);

    proxy.partition();
    proxy.cut();
    // Keys the target already has, deleted on the source while ferry is away: the new snapshot
    // does not carry them, so only the flush keeps them from staying behind as stale keys.
    await src.del(...doomed);
    await writeBigValues(source, 20, "during-cut"); // 200 KB: far more than the 16 KB backlog
    await sleep(1500);
    proxy.heal();

    const why = await f.waitLog(/^full resync instead of \+CONTINUE/, 20_000);
    expect(why.msg).toMatch(/backlog \(repl-backlog-size 16\.0 KiB\) no longer holds offset \d+/);
    expect(String(why["advice"])).toMatch(/^raise it on the source: CONFIG SET repl-backlog-size \d+mb/);
    expect(why["backlogSize"]).toMatch(/^\d+mb$/);
    await f.waitLog(/flushed the target's dbs/);

    await load.stop();
    await waitCaughtUp(src, target.client(), job);
    expect(await compareServers(src, target.client(), { dbs: [0, 1] })).toEqual([]);
    for (const key of doomed) expect(await target.client().exists(key)).toBe(0);
  });
});

describe("source drops ferry for client-output-buffer-limit replica", () => {
  const obuf = { "client-output-buffer-limit": "replica 512kb 256kb 1" };

  async function overflow(backlog: string, job: string) {
    const { source, target } = await servers({ ...obuf, "repl-backlog-size": backlog });
    const targetProxy = await startProxy(target);
    cleanup.push(() => targetProxy.close());
    // A small queue: ferry stops reading the source as soon as the target stops taking writes.
    const f = ferry([
      "--source",
      source.url,
      "--target",
      targetProxy.url,
      "--job",
      job,
      "--queue-size",
      "256kb",
    ]);
    await streaming(target, job);
    const before = await syncStats(source.client());
    targetProxy.stall();
    await writeBigValues(source, 1500, "burst"); // 15 MB: more than socket buffers + 512 KB
    await waitFor(() => /overcoming of output buffer limits/.test(sourceLog(source)), 20_000, 100);
    targetProxy.unstall();
    return { source, target, f, before };
  }

  it("resumes with +CONTINUE when the backlog holds the gap", async () => {
    const { source, target, f, before } = await overflow("64mb", "faults-obuf-ok");
    const lost = await f.waitLog(/^replication link lost/, 20_000);
    expect(String(lost["error"])).toMatch(/closed the replication link/);
    await f.waitLog(/^partial resync/, 20_000);
    const after = await syncStats(source.client());
    expect(after.full).toBe(before.full);
    expect(after.partialOk).toBeGreaterThan(before.partialOk);
    await waitCaughtUp(source.client(), target.client(), "faults-obuf-ok");
    expect(await compareServers(source.client(), target.client(), { dbs: [0, 1] })).toEqual([]);
  });

  it("when the backlog cannot hold it, logs which settings to raise and to what", async () => {
    const { source, target, f } = await overflow("16kb", "faults-obuf-small");
    const why = await f.waitLog(/^full resync instead of \+CONTINUE/, 20_000);
    expect(why.msg).toMatch(/repl-backlog-size 16\.0 KiB/);
    const advice = String(why["advice"]);
    expect(advice).toMatch(/CONFIG SET repl-backlog-size \d+mb/);
    expect(advice).toMatch(/CONFIG SET client-output-buffer-limit "replica \d+mb \d+mb 60"/);
    // The advised backlog holds at least twice what was missed (most of the 15 MB burst).
    const missed = Number(why["fullResyncOffset"]) - Number(why["askedOffset"]);
    expect(missed).toBeGreaterThan(1024 * 1024);
    const advisedMb = Number(/repl-backlog-size (\d+)mb/.exec(advice)?.[1]);
    expect(advisedMb * 1024 * 1024).toBeGreaterThanOrEqual(2 * missed);
    await waitCaughtUp(source.client(), target.client(), "faults-obuf-small", 40_000);
    expect(await compareServers(source.client(), target.client(), { dbs: [0, 1] })).toEqual([]);
  });
});

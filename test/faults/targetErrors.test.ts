/**
 * Issue #5: the target refuses writes for a while — connection resets, `-LOADING` (the target is
 * loading its dataset) and `-MASTERDOWN` (a replica without its master) — while a load of
 * non-idempotent commands runs on the source. Each is retried (nack + backoff), logged and counted
 * in /metrics, and the target ends up identical to the source: nothing lost, nothing doubled.
 * (`-TRYAGAIN` is a cluster target's answer during resharding: test/cluster/resharding.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset, type LoadHandle } from "../helpers/load.ts";
import { type FaultProxy, startProxy } from "../helpers/proxy.ts";
import { freePort, type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { type FerryProcess, readMarker, startFerry, waitCaughtUp } from "./ferryProcess.ts";
import { startSteadyLoad } from "./steadyLoad.ts";

const JOB = "faults-target-errors";
let source: RedisProc;
let target: RedisProc;
let proxy: FaultProxy;
let ferry: FerryProcess;
let load: LoadHandle;

const retried = (pattern: RegExp) =>
  ferry.logs.filter((l) => /^target write failed; retrying/.test(l.msg) && pattern.test(String(l["error"])));

async function retryableErrors(): Promise<number> {
  const text = await ferry.metrics();
  return text
    .split("\n")
    .filter((line) => line.startsWith("ferry_errors_total{") && line.includes('kind="retryable"'))
    .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
}

/** The marker moves again: writes get through after the fault. */
async function progresses(): Promise<void> {
  const dst = target.client();
  const at = (await readMarker(dst, JOB))?.offset ?? 0;
  await waitFor(async () => ((await readMarker(dst, JOB))?.offset ?? 0) > at, 20_000);
}

beforeAll(async () => {
  // AOF on the target: a kill -9 of the process loses nothing it acknowledged (Redis writes the
  // AOF buffer to the file before replying; only a machine crash can lose the unsynced tail).
  [source, target] = await Promise.all([startRedis(), startRedis({ persistence: true })]);
  await fillDataset(source.client(), { keys: 200, seed: 31 });
  proxy = await startProxy(target);
  ferry = startFerry(["--source", source.url, "--target", proxy.url, "--job", JOB]);
  const dst = target.client();
  await waitFor(async () => (await readMarker(dst, JOB))?.snapshot === false, 30_000, 20);
  load = startSteadyLoad({ url: source.url, seed: 13 });
  await sleep(300);
});

afterAll(async () => {
  await load?.stop();
  await ferry?.kill9();
  await proxy?.close();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe("target faults are retried without loss", () => {
  it("connection resets", async () => {
    const before = await retryableErrors();
    // A cut only shows as a retry when a transaction is in flight at that moment; between batches
    // the next send just reconnects. So cut until one has caught a write (at most 20 times).
    for (let i = 0; i < 20 && (i < 3 || retried(/lost the target connection/).length === 0); i++) {
      proxy.cut();
      await sleep(300);
    }
    await progresses();
    expect(retried(/lost the target connection/).length).toBeGreaterThan(0);
    expect(await retryableErrors()).toBeGreaterThan(before);
  });

  it("-LOADING while the target reloads its dataset", async () => {
    const admin = target.client();
    // Slow loading (µs per key) and serve clients every 1 KiB loaded, so they see -LOADING.
    await admin.config("SET", "key-load-delay", "1000");
    await admin.config("SET", "loading-process-events-interval-bytes", "1024");
    const before = await retryableErrors();
    await admin.call("DEBUG", "RELOAD"); // blocks this client until the reload is done
    await admin.config("SET", "key-load-delay", "0");
    await progresses();
    expect(retried(/LOADING/).length).toBeGreaterThan(0);
    expect(await retryableErrors()).toBeGreaterThan(before);
  });

  it("-MASTERDOWN while the target is a replica that lost its master", async () => {
    const admin = target.client();
    await admin.config("SET", "replica-read-only", "no");
    await admin.config("SET", "replica-serve-stale-data", "no");
    const before = await retryableErrors();
    await admin.call("REPLICAOF", "127.0.0.1", String(await freePort())); // nobody listens there
    await waitFor(() => retried(/MASTERDOWN/).length > 0, 10_000);
    await admin.call("REPLICAOF", "NO", "ONE"); // keeps the data
    await progresses();
    expect(await retryableErrors()).toBeGreaterThan(before);
  });

  it("kill -9 of the target (AOF on), restarted on the same port", async () => {
    const before = await retryableErrors();
    await target.kill9();
    await sleep(1000);
    await target.restart();
    await progresses();
    expect(await retryableErrors()).toBeGreaterThan(before);
  });

  it("converges exactly", async () => {
    const sent = await load.stop();
    expect(sent).toBeGreaterThan(500);
    await waitCaughtUp(source.client(), target.client(), JOB);
    expect(await compareServers(source.client(), target.client(), { dbs: [0, 1] })).toEqual([]);
    expect(await ferry.stop()).toBe(0);
  });
});

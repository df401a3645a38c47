/**
 * Issue #5: one `ferry sync` process rides out, under a write load of non-idempotent commands,
 * a source restart, a target restart and a 30 s network outage
 * between ferry and the source — reconnecting by itself each time, resuming with `+CONTINUE`, and
 * ending with a target identical to the source.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset, type LoadHandle } from "../helpers/load.ts";
import { type FaultProxy, startProxy } from "../helpers/proxy.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { type FerryProcess, readMarker, startFerry, syncStats, waitCaughtUp } from "./ferryProcess.ts";
import { startSteadyLoad } from "./steadyLoad.ts";

const JOB = "faults-restarts";
let source: RedisProc;
let target: RedisProc;
let proxy: FaultProxy;
let ferry: FerryProcess;
let load: LoadHandle;

const count = (msg: RegExp) => ferry.logs.filter((l) => msg.test(l.msg)).length;
const metric = async (name: string, label: string): Promise<number> => {
  const text = await ferry.metrics();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${name}{`) && line.includes(label)) sum += Number(line.split(" ").pop());
  return sum;
};

beforeAll(async () => {
  [source, target] = await Promise.all([
    // RDB persistence: Redis 7 saves replid and offset in the RDB on shutdown and restores them
    // on start (only from an RDB — with appendonly yes it loads the AOF and starts a new history).
    startRedis({
      persistence: true,
      config: {
        appendonly: "no",
        "repl-backlog-size": "16mb",
        // An idle master PINGs its replicas every repl-ping-replica-period (default 10 s): the
        // read timeout must be longer, or an idle link looks dead.
        "repl-ping-replica-period": "1",
      },
    }),
    startRedis({ persistence: true }),
  ]);
  await fillDataset(source.client(), { keys: 200, seed: 21 });
  proxy = await startProxy(source);
  ferry = startFerry(["--source", proxy.url, "--target", target.url, "--job", JOB, "--read-timeout", "2000"]);
  const dst = target.client();
  await waitFor(async () => (await readMarker(dst, JOB))?.snapshot === false, 30_000, 20);
  load = startSteadyLoad({ url: source.url, seed: 77, perRound: 10 });
  await sleep(500);
});

afterAll(async () => {
  await load?.stop();
  await ferry?.kill9();
  await proxy?.close();
  await Promise.all([source?.stop(), target?.stop()]);
});

describe("ferry sync reconnects by itself", () => {
  it("source restart (persistence on): resumes with +CONTINUE", async () => {
    const partials = count(/^partial resync/);
    const before = await syncStats(source.client());
    await source.stop({ keepDir: true }); // SIGTERM: the RDB written on shutdown keeps the replid
    await sleep(500);
    await source.restart();
    await ferry.waitLog((l) => /^partial resync/.test(l.msg) && count(/^partial resync/) > partials, 20_000);
    expect(count(/^full resync/)).toBe(1);
    // The restarted source counts from zero: its only sync since the restart was a partial one.
    const after = await syncStats(source.client());
    expect(after.full).toBe(0);
    expect(after.partialOk).toBeGreaterThanOrEqual(1);
    expect(before.full).toBe(1);
  });

  it("target restart (persistence on): writes fail, are retried, nothing lost or doubled", async () => {
    const retriesBefore = await metric("ferry_errors_total", 'kind="retryable"');
    await target.stop({ keepDir: true }); // SIGTERM: the AOF holds every acknowledged transaction
    await sleep(4000); // longer than ioredis' default reconnect attempts last
    await target.restart();
    const dst = target.client();
    const at = (await readMarker(dst, JOB))!.offset;
    await waitFor(async () => ((await readMarker(dst, JOB))?.offset ?? 0) > at, 20_000);
    const retried = ferry.logs.filter((l) => /^target write failed; retrying/.test(l.msg));
    expect(retried.some((l) => /lost the target connection/.test(String(l["error"])))).toBe(true);
    expect(await metric("ferry_errors_total", 'kind="retryable"')).toBeGreaterThan(retriesBefore);
  });

  it("30 s network outage (black hole, then refused connections): reconnects and continues", async () => {
    const partials = count(/^partial resync/);
    const reconnectsBefore = await metric("ferry_reconnects_total", `job="${JOB}"`);
    proxy.stall(); // packets vanish: only the read timeout can tell
    await ferry.waitLog(/^replication link lost/, 10_000);
    await sleep(13_000);
    proxy.partition(); // then the host is unreachable: connections are refused
    proxy.cut();
    proxy.unstall();
    await sleep(15_000);
    proxy.heal();
    await ferry.waitLog((l) => /^partial resync/.test(l.msg) && count(/^partial resync/) > partials, 30_000);
    expect(ferry.logs.some((l) => /no data from .* for 2000 ms/.test(String(l["error"])))).toBe(true);
    expect(count(/^full resync/)).toBe(1);
    expect(await metric("ferry_reconnects_total", `job="${JOB}"`)).toBeGreaterThan(reconnectsBefore + 2);
  }, 80_000); // 30 s outage + up to one backoff step (capped at 30 s, full jitter) after the heal

  it("converges: the target equals the source once the load stops", async () => {
    const sent = await load.stop();
    expect(sent).toBeGreaterThan(1000);
    await waitCaughtUp(source.client(), target.client(), JOB);
    expect(await compareServers(source.client(), target.client(), { dbs: [0, 1] })).toEqual([]);
    expect(await ferry.stop()).toBe(0);
  });
});

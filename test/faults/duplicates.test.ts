/**
 * Issue #5, job level: every batch delivered twice. Two `ferry sync` processes of the same job run
 * at once against the same source and target (an operator started it twice, or a supervisor
 * restarted a process that was not dead) under a non-idempotent load. Both replicate the whole
 * stream and both apply it; the markers on the target let each command through exactly once.
 * (Writer-level replays — duplicated, overlapping, out-of-order batches — are in
 * test/writer/standalone.test.ts.)
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset } from "../helpers/load.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { type FerryProcess, readMarker, startFerry, waitCaughtUp } from "./ferryProcess.ts";
import { startSteadyLoad } from "./steadyLoad.ts";

const JOB = "faults-duplicates";
let source: RedisProc;
let target: RedisProc;
const ferries: FerryProcess[] = [];

beforeAll(async () => {
  [source, target] = await Promise.all([startRedis(), startRedis()]);
  await fillDataset(source.client(), { keys: 200, seed: 41 });
});

afterAll(async () => {
  for (const ferry of ferries) await ferry.kill9();
  await Promise.all([source?.stop(), target?.stop()]);
});

it("two processes of the same job apply every command exactly once", async () => {
  const args = ["--source", source.url, "--target", target.url, "--job", JOB];
  const first = startFerry(args);
  ferries.push(first);
  const dst = target.client();
  await waitFor(async () => (await readMarker(dst, JOB))?.snapshot === false, 30_000, 20);
  const load = startSteadyLoad({ url: source.url, seed: 17 });
  await sleep(300);

  const second = startFerry(args);
  ferries.push(second);
  // The second one resumes from the marker the first keeps moving, and streams the same commands.
  await second.waitLog(/^partial resync/);
  await sleep(3000);
  const both = await Promise.all([first.status(), second.status()]);
  for (const status of both) expect(status.shards[0]!.appliedOffset).toBeGreaterThan(0);

  const sent = await load.stop();
  expect(sent).toBeGreaterThan(500);
  await waitCaughtUp(source.client(), dst, JOB);
  expect(await compareServers(source.client(), dst, { dbs: [0, 1] })).toEqual([]);
  expect(await first.stop()).toBe(0);
  expect(await second.stop()).toBe(0);
});

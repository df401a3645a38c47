/**
 * Issue #5: `ferry sync` killed with SIGKILL at many moments — during the snapshot and during the
 * live stream — under a write load of non-idempotent commands (INCR, LPUSH, APPEND, MULTI/EXEC,
 * SELECT), then started again with the same command line. The target must end up identical to the
 * source: no lost write, no write applied twice. A kill during the stream must resume with
 * `+CONTINUE` (the source's sync_partial_ok moves, sync_full does not).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset } from "../helpers/load.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import {
  type FerryProcess,
  masterOffset,
  readMarker,
  startFerry,
  syncStats,
  waitCaughtUp,
} from "./ferryProcess.ts";
import { startSteadyLoad } from "./steadyLoad.ts";

const JOB = "faults-kill9";
const FILLER_KEYS = 30_000;

let source: RedisProc;
let target: RedisProc;

beforeAll(async () => {
  [source, target] = await Promise.all([startRedis(), startRedis()]);
  const client = source.client();
  await fillDataset(client, { keys: 150, seed: 11 });
  // Enough keys that the snapshot, applied at --max-ops, takes seconds: room for kill points in it.
  await client.call("DEBUG", "POPULATE", String(FILLER_KEYS), "filler", "64");
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe("kill -9 of ferry sync, restarted with the same command", () => {
  it("converges exactly after kills during the snapshot and the stream", async () => {
    const src = source.client();
    const dst = target.client();
    const args = ["--source", source.url, "--target", target.url, "--job", JOB, "--max-ops", "12000"];
    const load = startSteadyLoad({ url: source.url, seed: 5 });
    const killPoints: string[] = [];
    const resumes: Array<{ toContinueMs: number; toCaughtUpMs: number }> = [];
    let ferry: FerryProcess | null = null;
    const kill = async (point: string) => {
      await ferry!.kill9();
      killPoints.push(point);
    };
    try {
      // ── kills during the snapshot: every restart takes a new one (the target was empty at start)
      ferry = startFerry(args);
      await ferry.waitLog(/^connected to source and target/);
      await kill("snapshot: connected, before PSYNC answered");

      ferry = startFerry(args);
      await ferry.waitLog(/^full resync/);
      await kill("snapshot: +FULLRESYNC received");

      ferry = startFerry(args);
      await ferry.waitLog(/^full resync/);
      await sleep(600);
      await kill("snapshot: RDB half read");

      ferry = startFerry(args);
      await ferry.waitLog(/^snapshot read/);
      await kill("snapshot: RDB read, apply in progress");

      ferry = startFerry(args);
      await ferry.waitLog(/^full resync/);
      await waitFor(async () => (await dst.dbsize()) > FILLER_KEYS * 0.6, 20_000, 20);
      await kill("snapshot: 60% of the keys applied");
      expect((await readMarker(dst, JOB))?.snapshot).toBe(true);

      // ── a run that completes the snapshot, killed shortly into the stream
      ferry = startFerry(args);
      await waitFor(async () => (await readMarker(dst, JOB))?.snapshot === false, 30_000, 20);
      await sleep(300);
      await kill("stream: 300 ms after the snapshot was applied");

      // ── kills during the stream: every restart is a partial resync
      const delays = [0, 50, 150, 400, 800, 1200];
      for (const [i, delay] of delays.entries()) {
        const before = await syncStats(src);
        ferry = startFerry(args);
        const resumed = await ferry.waitLog(/^partial resync/);
        const continueOffset = await masterOffset(src);
        const after = await syncStats(src);
        expect(after.full).toBe(before.full);
        expect(after.partialOk).toBe(before.partialOk + 1);
        expect(ferry.logs.some((l) => l.msg.startsWith("full resync"))).toBe(false);
        expect(ferry.logs.some((l) => l.msg.startsWith("resuming from the target's marker"))).toBe(true);
        if (i % 2 === 0) {
          // Resume time: process start → +CONTINUE → applied what the source had at that moment.
          await waitFor(
            async () => ((await readMarker(dst, JOB))?.offset ?? 0) >= continueOffset,
            20_000,
            10,
          );
          resumes.push({
            toContinueMs: resumed.time - ferry.startedAt,
            toCaughtUpMs: Date.now() - ferry.startedAt,
          });
        }
        await sleep(delay);
        await kill(`stream: ${delay} ms after +CONTINUE`);
      }

      // A kill while the marker is read, before PSYNC is even sent.
      ferry = startFerry(args);
      await ferry.waitLog(/^resuming from the target's marker/);
      await kill("stream: marker read, PSYNC not answered");

      // ── final run: stop the load, catch up, compare
      ferry = startFerry(args);
      await ferry.waitLog(/^partial resync/);
      const sent = await load.stop();
      await waitCaughtUp(src, dst, JOB);
      const diffs = await compareServers(src, dst, { dbs: [0, 1] });
      expect(diffs).toEqual([]);
      expect(sent).toBeGreaterThan(1000);
      expect(killPoints.length).toBeGreaterThanOrEqual(10);
      expect(await ferry.stop()).toBe(0);
      console.info(
        `[faults] ${killPoints.length} kill points, ${sent} source writes; resume (start→+CONTINUE→caught up): ${resumes
          .map((r) => `${r.toContinueMs}→${r.toCaughtUpMs} ms`)
          .join(", ")}`,
      );
    } finally {
      await load.stop();
      await ferry?.kill9();
    }
  }, 120_000);
});

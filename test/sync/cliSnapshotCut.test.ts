/**
 * Issue #4 (CLI): SIGTERM in the middle of a snapshot drains and exits 0; the next run of the same
 * command takes a new snapshot (the unfinished one cannot resume) and converges.
 */
import { afterEach, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/redis.ts";
import { type CliRun, differences, killFerry, runFerry, useFilledServers } from "./setup.ts";

describe("ferry sync (CLI): a snapshot cut by SIGTERM", () => {
  const servers = useFilledServers(300);
  let run: CliRun | undefined;
  afterEach(() => killFerry(run));

  it("SIGTERM during the snapshot exits 0 quickly; the rerun takes a new snapshot and converges", async () => {
    const { source, target, src, dst } = servers;
    await dst.flushall();
    // Enough keys that the snapshot is still running when the signal arrives (db 2, dropped below).
    await src.select(2);
    await src.call("DEBUG", "POPULATE", "8000", "pop", "20");
    await src.select(0);
    const port = await freePort();
    // --max-ops slows the snapshot down so the signal lands in the middle of it; a small queue
    // keeps the drain short.
    const args = ["sync", "--source", source.url, "--target", target.url, "--job", "cut"];
    run = runFerry([...args, "--max-ops", "1500", "--queue-size", "32kb", "--status-port", String(port)]);
    await waitFor(async () => {
      const s = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
        phase: string;
        totals: { keysDone: number };
      };
      return s.phase === "snapshot" && s.totals.keysDone > 0;
    }, 20_000);
    const signalled = Date.now();
    run.child.kill("SIGTERM");
    expect(await run.exited, run.stderr()).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5000);
    await dst.select(2);
    const copied = await dst.dbsize();
    await dst.select(0);
    expect(copied).toBeLessThan(8000); // really cut half-way

    // Changes made between the runs: a deleted key must not survive on the target.
    const [deleted] = await src.keys("plain:*");
    await src.del(deleted!);
    await src.set("between:runs", "1");
    run = runFerry([...args, "--until-synced"]);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).toContain("the previous run stopped during a snapshot: taking a new one");
    expect(await dst.exists(deleted!)).toBe(0);
    expect(await differences(src, dst, [0, 1, 2])).toEqual([]);
    await src.select(2);
    await src.flushdb();
    await src.select(0);
  });
});

/**
 * Issue #4, through the real executable (`node bin/ferry.mjs sync …` as a child process):
 * --until-synced, --status-port (/status, /metrics), SIGTERM drain, and the process's peak RSS.
 */
import { afterEach, describe, expect, it } from "vitest";
import { markerKey } from "../../core/writer/marker.ts";
import { startLoad } from "../helpers/load.ts";
import { freePort, sleep, waitFor } from "../helpers/redis.ts";
import {
  type CliRun,
  differences,
  killFerry,
  logLines,
  masterOffset,
  runFerry,
  useFilledServers,
} from "./setup.ts";

describe("ferry sync (CLI)", () => {
  const servers = useFilledServers(300);
  let run: CliRun | undefined;
  afterEach(() => killFerry(run));

  it("--until-synced exits 0 with an identical target and a summary", async () => {
    const { source, target, src, dst } = servers;
    await dst.flushall();
    run = runFerry(["sync", "--source", source.url, "--target", target.url, "--until-synced"]);
    const code = await run.exited;
    expect(code, run.stderr()).toBe(0);
    expect(await differences(src, dst, [0, 1])).toEqual([]);
    const logs = logLines(run.stderr());
    expect(logs.some((l) => String(l["msg"]).startsWith("synced:"))).toBe(true);
    const summary = logs.find((l) => String(l["msg"]).startsWith("ferry sync stopped after"));
    expect(summary).toBeDefined();
    const status = summary!["status"] as { phase: string; shards: Array<{ appliedOffset: number }> };
    expect(status.phase).toBe("stopped");
    expect(status.shards[0]!.appliedOffset).toBe(await masterOffset(src));
    // Peak resident set of the ferry process for this small dataset (reported in docs/sync.md).
    expect(run.peakRssKiB()).toBeGreaterThan(0);
    expect(run.peakRssKiB()).toBeLessThan(400 * 1024);
  });

  it("serves /status and /metrics, and drains and exits 0 on SIGTERM", async () => {
    const { source, target, src, dst } = servers;
    await dst.flushall();
    const port = await freePort();
    run = runFerry(["sync", "--source", source.url, "--target", target.url, "--status-port", String(port)]);
    const base = `http://127.0.0.1:${port}`;
    let status: Record<string, unknown> = {};
    await waitFor(async () => {
      const response = await fetch(`${base}/status`);
      status = (await response.json()) as Record<string, unknown>;
      return status["phase"] === "streaming";
    }, 20_000);
    const shards = status["shards"] as Array<Record<string, unknown>>;
    expect(shards[0]).toMatchObject({ shard: "standalone", phase: "streaming" });
    for (const field of ["appliedOffset", "receivedOffset", "sourceOffset", "lagBytes", "lagSeconds"])
      expect(typeof shards[0]![field]).toBe("number");
    expect(status["totals"]).toMatchObject({ lagBytes: expect.any(Number), queueBytes: expect.any(Number) });

    // Writes while running, then SIGTERM: what was read is applied before the exit.
    const load = startLoad({ url: source.url, seed: 3, keys: 200 });
    await sleep(500);
    await load.stop();
    await waitFor(async () => {
      const s = (await (await fetch(`${base}/status`)).json()) as {
        shards: Array<{ appliedOffset: number }>;
      };
      return s.shards[0]!.appliedOffset === (await masterOffset(src));
    }, 20_000);

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^# TYPE ferry_\w+/m);
    expect(metrics).toMatch(/^ferry_applied_offset\{[^}]*shard="standalone"[^}]*\} \d+/m);
    expect(metrics).toMatch(/^ferry_lag_bytes\{[^}]*\} 0$/m);
    // Counters follow the status: every snapshot key and some applied bytes.
    const keysDone = (status["totals"] as { keysDone: number }).keysDone;
    expect(keysDone).toBeGreaterThan(100);
    expect(metrics).toContain(
      `ferry_snapshot_keys_total{job="${status["job"]}",shard="standalone"} ${keysDone}`,
    );
    expect(metrics).toMatch(/^ferry_applied_bytes_total\{[^}]*\} [1-9]\d*$/m);

    // SIGTERM in the middle of a write load: what was read is applied (received == applied in the
    // summary), and a rerun continues from there with +CONTINUE.
    const busy = startLoad({ url: source.url, seed: 4, keys: 200 });
    await sleep(300);
    run.child.kill("SIGTERM");
    expect(await run.exited, run.stderr()).toBe(0);
    await busy.stop();
    expect(run.stderr()).toContain("stopping: no more reads from the source");
    const summary = logLines(run.stderr()).find((l) =>
      String(l["msg"]).startsWith("ferry sync stopped after"),
    );
    const last = (summary!["status"] as { shards: Array<{ appliedOffset: number; receivedOffset: number }> })
      .shards[0]!;
    expect(last.appliedOffset).toBe(last.receivedOffset);
    expect(await dst.get(markerKey("__ferry:", String(status["job"]), "standalone"))).toMatch(
      new RegExp(`:${last.appliedOffset}:\\d+$`),
    );
    run = runFerry(["sync", "--source", source.url, "--target", target.url, "--until-synced"]);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(run.stderr()).toContain("partial resync");
    expect(await differences(src, dst, [0, 1])).toEqual([]);
  });
});

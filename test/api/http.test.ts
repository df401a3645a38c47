/**
 * The API over real HTTP (`ferry serve`'s startServer on a free port, file-backed JobStore):
 * SSE through fetch, latency under 100 concurrent status polls, graceful shutdown and resume.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManualRunner } from "../../core/jobs/manualRunner.ts";
import type { JobView } from "../../core/jobs/view.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import { type RunningServer, startServer } from "../../functions/cli/serve.ts";
import { SPEC } from "./setup.ts";

const dirs: string[] = [];
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(stateDir: string, runner: ManualRunner, heartbeatMs = 15_000) {
  let key = "";
  const server = await startServer(
    { port: 0, host: "127.0.0.1", stateDir, runner: "manual" },
    { runner, log: silentLogger(), announceKey: (k) => (key = k), heartbeatMs },
  );
  servers.push(server);
  return { server, key };
}

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ferry-api-"));
  dirs.push(dir);
  return dir;
}

/** Reads SSE frames from a fetch body until `until` says stop. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (events: Array<{ event: string; data: string }>) => boolean,
) {
  const events: Array<{ event: string; data: string }> = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = body.getReader();
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "message";
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? "";
      events.push({ event, data });
      end = buffer.indexOf("\n\n");
    }
  }
  return { events, reader };
}

describe("ferry serve over HTTP", () => {
  it("generates a key once, stores only its hash, and enforces it", async () => {
    const dir = newDir();
    const first = await start(dir, new ManualRunner());
    expect(first.key).toMatch(/^ferry_[A-Za-z0-9_-]{43}$/);
    const stored = readFileSync(join(dir, "api-keys"), "utf8");
    expect(stored).not.toContain(first.key);
    expect(stored).toMatch(/^sha256:[0-9a-f]{64} admin$/m);
    expect((await fetch(`${first.server.url}/v1/jobs`)).status).toBe(401);
    const ok = await fetch(`${first.server.url}/v1/jobs`, {
      headers: { authorization: `Bearer ${first.key}` },
    });
    expect(ok.status).toBe(200);
    await first.server.close();
    const second = await start(dir, new ManualRunner());
    expect(second.key).toBe(""); // not generated again
    const again = await fetch(`${second.server.url}/v1/jobs`, {
      headers: { authorization: `Bearer ${first.key}` },
    });
    expect(again.status).toBe(200);
    await second.server.close();
  });

  it("streams a snapshot, then state and progress events, with heartbeats; releases the watch on abort", async () => {
    const runner = new ManualRunner();
    const { server, key } = await start(newDir(), runner, 100);
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const created = (await (
      await fetch(`${server.url}/v1/jobs`, { method: "POST", headers, body: JSON.stringify(SPEC) })
    ).json()) as JobView;
    const abort = new AbortController();
    const res = await fetch(`${server.url}/v1/jobs/${created.id}/events`, { headers, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reading = readEvents(
      res.body!,
      (events) =>
        events.some((e) => e.event === "progress" && e.data.includes('"keysDone":500')) &&
        // The state change is stored (and announced) after the progress report that caused it.
        events.some((e) => e.event === "state" && e.data.includes('"state":"streaming"')) &&
        events.some((e) => e.event === "heartbeat"),
    );
    setTimeout(() => {
      runner.report(created.id, {
        phase: "streaming",
        keysDone: 500,
        shards: [{ shard: "standalone", lagBytes: 0 }],
      });
    }, 50);
    const { events, reader } = await reading;
    expect(events[0]?.event).toBe("snapshot");
    const snapshot = JSON.parse(events[0]!.data) as JobView;
    expect(snapshot.id).toBe(created.id);
    expect(events[0]!.data).not.toContain("s3cret-source");
    expect(
      events.some((e) => e.event === "state" && (JSON.parse(e.data) as JobView).state === "streaming"),
    ).toBe(true);
    expect(events.some((e) => e.event === "heartbeat")).toBe(true);
    expect(server.service.watcherCount(created.id)).toBe(1);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    const deadline = Date.now() + 2000;
    while (server.service.watcherCount(created.id) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(server.service.watcherCount(created.id)).toBe(0);
  });

  it("answers 100 concurrent status polls quickly", async () => {
    const runner = new ManualRunner();
    const { server, key } = await start(newDir(), runner);
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const job = (await (
      await fetch(`${server.url}/v1/jobs`, { method: "POST", headers, body: JSON.stringify(SPEC) })
    ).json()) as JobView;
    runner.report(job.id, { shards: Array.from({ length: 3 }, (_, i) => ({ shard: `m${i}`, lagBytes: i })) });
    const poll = async () => {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/v1/jobs/${job.id}`, { headers });
      await res.json();
      return { status: res.status, ms: performance.now() - t0 };
    };
    await Promise.all(Array.from({ length: 10 }, poll)); // warm up
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 100 }, poll));
    const wall = performance.now() - t0;
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!.toFixed(1);
    console.log(
      `100 concurrent GET /v1/jobs/{id}: p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms, wall ${wall.toFixed(0)} ms`,
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(Number(pct(95))).toBeLessThan(2000);
  });

  it("SIGTERM-style close pauses running jobs with their progress; the next start resumes them", async () => {
    const dir = newDir();
    const runner = new ManualRunner();
    const { server, key } = await start(dir, runner);
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const running = (await (
      await fetch(`${server.url}/v1/jobs`, { method: "POST", headers, body: JSON.stringify(SPEC) })
    ).json()) as JobView;
    const paused = (await (
      await fetch(`${server.url}/v1/jobs`, {
        method: "POST",
        headers,
        body: JSON.stringify({ ...SPEC, name: "paused" }),
      })
    ).json()) as JobView;
    runner.report(running.id, { phase: "streaming", shards: [{ shard: "standalone", appliedOffset: 4242 }] });
    await fetch(`${server.url}/v1/jobs/${paused.id}:pause`, { method: "POST", headers });
    await new Promise((r) => setTimeout(r, 20));
    await server.close();
    const stored = JSON.parse(readFileSync(join(dir, "jobs.json"), "utf8")) as Record<
      string,
      {
        state: string;
        status: { resumeOnStart?: boolean; progress: { shards: Array<{ appliedOffset: number }> } };
      }
    >;
    expect(stored[running.id]?.state).toBe("paused");
    expect(stored[running.id]?.status.resumeOnStart).toBe(true);
    expect(stored[running.id]?.status.progress.shards[0]?.appliedOffset).toBe(4242);
    expect(stored[paused.id]?.status.resumeOnStart).toBe(false);

    const next = new ManualRunner();
    const restarted = await start(dir, next);
    expect(next.calls).toEqual([{ op: "start", id: running.id, resume: true }]);
    const again = (await (
      await fetch(`${restarted.server.url}/v1/jobs/${running.id}`, { headers })
    ).json()) as JobView;
    expect(again.state).toBe("streaming");
    const stillPaused = (await (
      await fetch(`${restarted.server.url}/v1/jobs/${paused.id}`, { headers })
    ).json()) as JobView;
    expect(stillPaused.state).toBe("paused"); // a user's pause survives a restart
  });
});

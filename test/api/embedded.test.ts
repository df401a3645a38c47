/**
 * A real migration driven only through the HTTP API on the embedded runtime (`ferry serve`):
 * create → streaming → live writes → pause/resume → cutover → compare identical → delete removes
 * the markers from the target.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { silentLogger } from "../../core/observability/logger.ts";
import { type RunningServer, startServer } from "../../functions/cli/serve.ts";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset, startLoad } from "../helpers/load.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";

let source: RedisProc;
let target: RedisProc;
let server: RunningServer;
let key = "";
let stateDir: string;

beforeAll(async () => {
  // A backlog that outlasts the pause, so the resume is a partial resync (+CONTINUE).
  [source, target] = await Promise.all([
    startRedis({ config: { "repl-backlog-size": "64mb" } }),
    startRedis(),
  ]);
  await fillDataset(source.client(), { keys: 200 });
  stateDir = mkdtempSync(join(tmpdir(), "ferry-serve-"));
  server = await startServer(
    { port: 0, host: "127.0.0.1", stateDir, runner: "embedded" },
    { log: silentLogger(), announceKey: (k) => (key = k), heartbeatMs: 500 },
  );
});

afterAll(async () => {
  await server?.close();
  await source?.stop();
  await target?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function state(id: string): Promise<string> {
  return String((await api("GET", `/v1/jobs/${id}`)).json["state"]);
}

it("migrates through the API: create, stream live writes, pause/resume, cutover, verify, delete", async () => {
  const created = await api("POST", "/v1/jobs", {
    name: "api-e2e",
    source: source.url,
    target: target.url,
    // The load writes db 1 too; FLUSHDB is not part of this load.
    labels: { team: "platform" },
  });
  expect(created.status).toBe(201);
  const id = String(created.json["id"]);
  await waitFor(async () => (await state(id)) === "streaming", 30_000, 100);

  const load = startLoad({ url: source.url, seed: 5 });
  await new Promise((r) => setTimeout(r, 700));

  expect((await api("POST", `/v1/jobs/${id}:pause`)).status).toBe(200);
  await waitFor(async () => (await state(id)) === "paused", 10_000, 100);
  await new Promise((r) => setTimeout(r, 300)); // writes keep coming while paused
  expect((await api("POST", `/v1/jobs/${id}:resume`)).status).toBe(200);
  await waitFor(async () => (await state(id)) === "streaming", 30_000, 100);
  await new Promise((r) => setTimeout(r, 500));
  await load.stop();

  const cutover = await api("POST", `/v1/jobs/${id}:cutover?wait=60`);
  expect(cutover.status).toBe(200);
  await waitFor(async () => (await state(id)) === "completed", 30_000, 100);

  const diffs = await compareServers(source.client(), target.client(), { dbs: [0, 1] });
  expect(diffs).toEqual([]);

  // The resume after the pause continued the stream (no second snapshot).
  const stats = await source.client().info("stats");
  expect(/sync_full:(\d+)/.exec(stats)?.[1]).toBe("1");
  expect(Number(/sync_partial_ok:(\d+)/.exec(stats)?.[1])).toBeGreaterThanOrEqual(1);

  const markersBefore = await target.client().keys("__ferry:*");
  expect(markersBefore.length).toBeGreaterThan(0);
  const deleted = await api("DELETE", `/v1/jobs/${id}`);
  expect(deleted.status).toBe(200);
  expect(await target.client().keys("__ferry:*")).toEqual([]);
});

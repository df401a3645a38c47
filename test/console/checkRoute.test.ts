/**
 * POST /v1/check (the console's preflight view) against real redis-servers: the report with the
 * setting to change, field errors for bad input, admin-only; and GET /console/ without a build.
 */
import { Registry } from "prom-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApp } from "../../core/api/app.ts";
import type { Problem } from "../../core/api/problem.ts";
import type { CheckReport } from "../../core/check/types.ts";
import { buildApi, jsonBody, READ_KEY } from "../api/setup.ts";
import { startLoad } from "../helpers/load.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

let source: RedisProc;
let target: RedisProc;

beforeAll(async () => {
  // A backlog far too small for any write rate: the check must say which setting to raise.
  [source, target] = await Promise.all([
    startRedis({ config: { "repl-backlog-size": "16kb" } }),
    startRedis(),
  ]);
});

afterAll(async () => {
  await source?.stop();
  await target?.stop();
});

it("answers the check report with the exact setting to change", async () => {
  const { app } = buildApi();
  const load = startLoad({ url: source.url, seed: 3 });
  let res: Response;
  try {
    res = await app.request(
      "/v1/check",
      jsonBody({ source: source.url, target: target.url, sampleSeconds: 1, scanSeconds: 0 }),
    );
  } finally {
    await load.stop();
  }
  expect(res.status).toBe(200);
  const report = (await res.json()) as CheckReport;
  const ids = report.results.map((r) => r.id);
  expect(ids).toContain("source.connect");
  expect(ids).toContain("target.connect");
  const backlog = report.results.find((r) => r.id === "source.backlog");
  expect(backlog?.node).toBe(`127.0.0.1:${source.port}`);
  expect(backlog?.status).not.toBe("ok");
  expect(backlog?.advice).toMatch(/^CONFIG SET repl-backlog-size \d/);
  expect(report.summary.ok + report.summary.warn + report.summary.fail).toBe(report.results.length);
});

it("reports an unreachable server as a FAIL line, not an error", async () => {
  const { app } = buildApi();
  const res = await app.request(
    "/v1/check",
    jsonBody({ source: source.url, target: "redis://127.0.0.1:1", sampleSeconds: 0.5, scanSeconds: 0 }),
  );
  expect(res.status).toBe(200);
  const report = (await res.json()) as CheckReport;
  expect(report.results.find((r) => r.id === "target.connect")?.status).toBe("fail");
  expect(report.exitCode).toBe(2);
});

it("names the invalid field, refuses secret references and read-only keys", async () => {
  const { app } = buildApi();
  const bad = await app.request("/v1/check", jsonBody({ source: "localhost:6379", target: target.url }));
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as Problem).errors?.map((e) => e.path)).toEqual(["source"]);

  const secret = await app.request(
    "/v1/check",
    jsonBody({ source: source.url, target: { secret: { env: "FERRY_TARGET_URL" } } }),
  );
  expect(secret.status).toBe(400);
  expect(((await secret.json()) as Problem).errors?.map((e) => e.path)).toEqual(["target"]);

  const read = await app.request("/v1/check", jsonBody({ source: source.url, target: target.url }, READ_KEY));
  expect(read.status).toBe(403);
  const none = await app.request("/v1/check", { method: "POST", body: "{}" });
  expect(none.status).toBe(401);
});

it("says how to build the console when it is not built, and redirects / to it", async () => {
  const { service } = buildApi();
  const app = createApp({ service, registry: new Registry(), auth: "none", version: "t", console: null });
  const page = await app.request("/console/");
  expect(page.status).toBe(503);
  expect(await page.text()).toContain("npm run build");
  const root = await app.request("/");
  expect(root.headers.get("location")).toBe("/console/");
});

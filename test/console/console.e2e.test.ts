/**
 * The web console in a real browser against a real `ferry serve` (embedded runner) and real
 * redis-servers: log in, a bad field, preflight check, create a migration through the form, watch
 * the live charts while a load writes, pause/resume, cut over, target equals source, delete.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { silentLogger } from "../../core/observability/logger.ts";
import { type RunningServer, startServer } from "../../functions/cli/serve.ts";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset, startLoad } from "../helpers/load.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { launchBrowser, screenshot } from "./browser.ts";
import { buildConsole } from "./build.ts";

let source: RedisProc;
let target: RedisProc;
let server: RunningServer;
let browser: Browser;
let page: Page;
let key = "";
let stateDir: string;
let dist = "";

beforeAll(async () => {
  [source, target, dist] = await Promise.all([
    startRedis({ config: { "repl-backlog-size": "64mb" } }),
    startRedis(),
    buildConsole(),
  ]);
  await fillDataset(source.client(), { keys: 200 });
  stateDir = mkdtempSync(join(tmpdir(), "ferry-console-"));
  server = await startServer(
    { port: 0, host: "127.0.0.1", stateDir, runner: "embedded" },
    { log: silentLogger(), announceKey: (k) => (key = k), heartbeatMs: 1000 },
  );
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await source?.stop();
  await target?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  if (dist) rmSync(dist, { recursive: true, force: true });
});

async function confirm(action: string): Promise<void> {
  await page.getByRole("button", { name: action, exact: true }).first().click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: action, exact: true }).click();
}

const jobState = () => page.getByTestId("job-state");

it("serves the console with a strict CSP and redirects / to it", async () => {
  const res = await fetch(`${server.url}/`, { redirect: "manual" });
  expect(res.status).toBe(302);
  expect(res.headers.get("location")).toBe("/console/");
  const index = await fetch(`${server.url}/console/`);
  expect(index.status).toBe(200);
  expect(index.headers.get("content-security-policy")).toContain("script-src 'self'");
  const html = await index.text();
  const script = /src="\/console\/(app-[^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  const js = await fetch(`${server.url}/console/${script}`);
  expect(js.headers.get("cache-control")).toContain("immutable");
  const again = await fetch(`${server.url}/console/${script}`, {
    headers: { "if-none-match": js.headers.get("etag") ?? "" },
  });
  expect(again.status).toBe(304);
});

it("rejects a wrong API key with a clear message", async () => {
  await page.goto(`${server.url}/console/`);
  await page.getByLabel("API key").fill("ferry_not-a-real-key");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect
    .poll(() => page.getByTestId("login-error").textContent())
    .toContain("rejected this API key (401)");
  await screenshot(page, "login-401");
  // The key is never put in the URL.
  expect(page.url()).not.toContain("ferry_not-a-real-key");
});

it("shows a bad field's error next to it, and the preflight check report", async () => {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Migrations" }).waitFor();
  await page.getByRole("link", { name: "New migration" }).first().click();

  await page.getByLabel("Source URL").fill("localhost:6379");
  await page.getByLabel("Target URL").fill(target.url);
  await page.getByLabel("Max commands/s").fill("-5");
  await page.getByRole("button", { name: "Start migration" }).click();
  await expect.poll(() => page.getByTestId("error-source").textContent()).toContain("redis://localhost:6379");
  expect(await page.getByTestId("error-maxOps").textContent()).toContain(">0");
  // The field points at its error for screen readers and got the focus.
  expect(await page.getByLabel("Source URL").getAttribute("aria-invalid")).toBe("true");
  expect(await page.evaluate("document.activeElement?.id")).toBe("source");
  await screenshot(page, "form-errors");

  await page.getByLabel("Source URL").fill(source.url);
  await page.getByLabel("Max commands/s").fill("");
  await page.getByRole("button", { name: "Run preflight check" }).click();
  const report = page.getByTestId("check-report");
  await report.waitFor({ timeout: 30_000 });
  expect(await report.textContent()).toContain("source.connect");
  await screenshot(page, "check");
});

it("creates a migration, shows live lag while writes flow, pauses, resumes, cuts over", async () => {
  await page.getByLabel("Name (optional)").fill("console-e2e");
  await page.getByText("TLS, PSYNC name and labels").click();
  await page.getByLabel("Labels").fill("team=web");
  await page.getByRole("button", { name: "Start migration" }).click();
  await expect.poll(() => jobState().textContent(), { timeout: 30_000 }).toBe("streaming");
  expect(await page.getByTestId("stream-state").textContent()).toBe("Live");

  const load = startLoad({ url: source.url, seed: 11 });
  try {
    // Charts are fed by SSE progress events: points accumulate and throughput shows the load.
    const points = () => page.locator('[data-testid="lag-chart"] svg').first().getAttribute("data-points");
    const before = Number(await points());
    await expect.poll(async () => Number(await points()), { timeout: 20_000 }).toBeGreaterThan(before + 3);
    await expect
      .poll(async () => page.locator('[data-testid="ops-chart"] svg').first().getAttribute("aria-label"), {
        timeout: 20_000,
      })
      .not.toContain("peak 0");
    expect(await page.getByTestId("shard-row").count()).toBe(1);
    await screenshot(page, "job-streaming");

    await confirm("Pause");
    await expect.poll(() => jobState().textContent(), { timeout: 20_000 }).toBe("paused");
    await confirm("Resume");
    await expect.poll(() => jobState().textContent(), { timeout: 30_000 }).toBe("streaming");
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await load.stop();
  }

  // The message carries the event log, so a job that left streaming on its own says why.
  expect(await jobState().textContent(), (await page.getByTestId("event-log").textContent()) ?? "").toBe(
    "streaming",
  );
  await confirm("Cut over");
  await expect.poll(() => jobState().textContent(), { timeout: 60_000 }).toBe("completed");
  const diffs = await compareServers(source.client(), target.client(), { dbs: [0, 1] });
  expect(diffs).toEqual([]);
  expect(await page.getByTestId("event-log").textContent()).toMatch(/paus/i);
  await screenshot(page, "job-completed");
});

it("lists the job with its state and label filter, and deletes it after confirmation", async () => {
  await page.getByRole("link", { name: "Migrations" }).first().click();
  await page.getByTestId("job-row").first().waitFor();
  await page.getByLabel("Label").fill("team=web");
  await page.getByLabel("State").selectOption("completed");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => page.getByTestId("job-row").count()).toBe(1);
  expect(await page.getByTestId("job-row").textContent()).toContain("console-e2e");
  await screenshot(page, "list");
  await page.getByLabel("State").selectOption("failed");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect.poll(() => page.getByText("No migrations match this filter").count()).toBe(1);

  await page.getByLabel("State").selectOption("");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("link", { name: "console-e2e" }).click();
  await confirm("Delete");
  await expect.poll(() => page.getByText("No migrations yet").count(), { timeout: 20_000 }).toBe(1);
  expect(await target.client().keys("__ferry:*")).toEqual([]);
});

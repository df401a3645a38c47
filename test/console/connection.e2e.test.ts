/**
 * The console's failure paths in a real browser, on `ferry serve --runner manual` (progress is
 * reported by the test, nothing is migrated): a read-only key gets a clear 403, snapshot progress
 * with ETA follows the runner, and a server restart shows "connection lost" and then reconnects.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ManualRunner } from "../../core/jobs/manualRunner.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import { type RunningServer, startServer } from "../../functions/cli/serve.ts";
import { launchBrowser, screenshot } from "./browser.ts";
import { buildConsole } from "./build.ts";

const ADMIN = "ferry_console-admin-key-0123";
const READ = "ferry_console-read-key-0123";

let stateDir: string;
let server: RunningServer;
let runner: ManualRunner;
let browser: Browser;
let page: Page;
let jobId = "";
let dist = "";

async function serve(port: number): Promise<void> {
  runner = new ManualRunner();
  server = await startServer(
    { port, host: "127.0.0.1", stateDir, runner: "manual", apiKeyFile: join(stateDir, "keys.txt") },
    { runner, log: silentLogger(), heartbeatMs: 1000 },
  );
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "ferry-console-conn-"));
  writeFileSync(join(stateDir, "keys.txt"), `${ADMIN} admin\n${READ} read\n`);
  dist = await buildConsole();
  await serve(0);
  const res = await fetch(`${server.url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "watched",
      source: "redis://10.0.0.5:6379",
      target: "redis://10.0.0.6:6379",
    }),
  });
  jobId = ((await res.json()) as { id: string }).id;
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  if (dist) rmSync(dist, { recursive: true, force: true });
});

const shard = (done: number) => ({
  shard: "standalone",
  address: "10.0.0.5:6379",
  phase: "snapshot" as const,
  snapshotBytesDone: done,
  snapshotBytesTotal: 10_000_000,
  keysDone: done / 100,
});

it("a read-only key can watch but gets a clear 403 when it tries to change the job", async () => {
  await page.goto(`${server.url}/console/#/jobs/${jobId}`);
  await page.getByLabel("API key").fill(READ);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect.poll(() => page.getByTestId("stream-state").textContent()).toBe("Live");
  await page.getByRole("button", { name: "Pause", exact: true }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Pause", exact: true }).click();
  await expect.poll(() => page.getByRole("alert").first().textContent()).toContain("read-only (403)");
  expect(await page.getByTestId("job-state").textContent()).toBe("snapshot");
});

it("works from the keyboard: the confirmation opens on Enter, Escape cancels and returns focus", async () => {
  const pause = page.getByRole("button", { name: "Pause", exact: true });
  await pause.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  // The native modal moved focus inside it; Escape closes it without acting.
  expect(await page.evaluate("document.activeElement?.closest('dialog') !== null")).toBe(true);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  expect(await page.evaluate("document.activeElement?.textContent")).toBe("Pause");
  expect(await page.getByTestId("job-state").textContent()).toBe("snapshot");
});

it("shows snapshot progress with an ETA from the live stream", async () => {
  runner.report(jobId, { shards: [shard(2_000_000)] });
  await new Promise((r) => setTimeout(r, 1200));
  runner.report(jobId, {
    shards: [shard(5_000_000)],
    event: {
      at: new Date().toISOString(),
      level: "warn",
      message: "reconnected to 10.0.0.5:6379",
      advice: "check the network between ferry and the source",
    },
  });
  const bar = page.getByTestId("snapshot-progress");
  await expect.poll(() => bar.getAttribute("value")).toBe("50");
  const row = bar.locator("xpath=..");
  await expect.poll(() => row.textContent()).toMatch(/of 9\.5 MiB \(50%\) · ETA \d/);
  expect(await page.getByTestId("event-log").textContent()).toContain(
    "check the network between ferry and the source",
  );
  await screenshot(page, "job-snapshot");
});

it("says the connection is lost when the server goes away, and reconnects when it is back", async () => {
  const port = server.port;
  await server.close();
  await expect
    .poll(() => page.getByTestId("stream-state").textContent(), { timeout: 10_000 })
    .toMatch(/Connection lost .*reconnecting in \d+ s/);
  await screenshot(page, "connection-lost");
  await serve(port);
  await expect.poll(() => page.getByTestId("stream-state").textContent(), { timeout: 20_000 }).toBe("Live");
  // The restarted server resumed the job it had paused at shutdown; the page shows the new state.
  await expect.poll(() => page.getByTestId("job-state").textContent(), { timeout: 10_000 }).toBe("snapshot");
});

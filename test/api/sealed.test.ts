/**
 * `ferry serve` keeps job URLs' passwords sealed at rest: jobs.json never holds them in plain text,
 * the API returns them redacted, and the runner still receives the URL it needs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ManualRunner } from "../../core/jobs/manualRunner.ts";
import { seal, unseal } from "../../core/jobs/sealedJobStore.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import { type RunningServer, startServer } from "../../functions/cli/serve.ts";

const PASSWORD = "pa55-w0rd-never-stored";
const dirs: string[] = [];
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it("stores URL passwords sealed, returns them redacted, and hands the runner the real URL", async () => {
  const stateDir = mkdtempSync(join(tmpdir(), "ferry-sealed-"));
  dirs.push(stateDir);
  const runner = new ManualRunner();
  let key = "";
  const server = await startServer(
    { port: 0, host: "127.0.0.1", stateDir, runner: "manual" },
    { runner, log: silentLogger(), announceKey: (k) => (key = k) },
  );
  servers.push(server);
  const created = await fetch(`${server.url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      source: `redis://app:${PASSWORD}@10.0.0.5:6379`,
      target: "redis://10.0.0.6:6379",
    }),
  });
  expect(created.status).toBe(201);
  const body = await created.text();
  expect(body).not.toContain(PASSWORD);
  expect(body).toContain("redis://app:***@10.0.0.5:6379");

  for (const file of readdirSync(stateDir)) {
    expect(readFileSync(join(stateDir, file)).includes(PASSWORD), file).toBe(false);
  }
  expect(readFileSync(join(stateDir, "jobs.json"), "utf8")).toContain("sealed:v1:");
  expect(statSync(join(stateDir, "secret.key")).mode & 0o077).toBe(0);

  const id = (JSON.parse(body) as { id: string }).id;
  const listed = await fetch(`${server.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } });
  expect(await listed.text()).not.toContain(PASSWORD);
  // The runner got the URL with its password (it has to connect with it).
  expect(runner.calls.some((c) => c.op === "start" && c.id === id)).toBe(true);
  const held = (runner as unknown as { jobs: Map<string, { spec: { source: string } }> }).jobs.get(id);
  expect(held?.spec.source).toBe(`redis://app:${PASSWORD}@10.0.0.5:6379`);
  const started = await server.service.get(id);
  expect(JSON.stringify(started)).not.toContain(PASSWORD);
});

it("refuses to open a sealed value with another key", () => {
  const a = Buffer.alloc(32, 1);
  const b = Buffer.alloc(32, 2);
  const sealed = seal(a, "redis://:x@h:1");
  expect(unseal(a, sealed)).toBe("redis://:x@h:1");
  expect(() => unseal(b, sealed)).toThrow(/secret key/);
});

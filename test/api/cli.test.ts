/** `ferry jobs …` as a user runs it: the real executable against a real `ferry serve` server. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualRunner } from "../../core/jobs/manualRunner.ts";
import type { JobView } from "../../core/jobs/view.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import { type RunningServer, startServer } from "../../functions/cli/serve.ts";
import { SPEC } from "./setup.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "ferry-cli-"));
let server: RunningServer;
let key = "";

beforeAll(async () => {
  server = await startServer(
    { port: 0, host: "127.0.0.1", stateDir: dir, runner: "manual" },
    { runner: new ManualRunner(), log: silentLogger(), announceKey: (k) => (key = k) },
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ferry(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(
      "node",
      ["bin/ferry.mjs", "jobs", "--api", server.url, "--json", ...args],
      {
        env: { ...process.env, FERRY_API_KEY: key, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("ferry jobs", () => {
  it("creates, lists, pauses and reports errors with advice", async () => {
    const specFile = join(dir, "spec.json");
    writeFileSync(specFile, JSON.stringify(SPEC));
    const created = await ferry(["create", "--spec", specFile, "--idempotency-key", "k1"]);
    expect(created.code).toBe(0);
    const job = JSON.parse(created.stdout) as JobView;
    expect(job.state).toBe("snapshot");
    const listed = JSON.parse((await ferry(["list"])).stdout) as { jobs: JobView[] };
    expect(listed.jobs.map((j) => j.id)).toEqual([job.id]);
    const paused = JSON.parse((await ferry(["pause", job.id])).stdout) as { job: JobView };
    expect(paused.job.state).toBe("paused");
    const again = await ferry(["pause", job.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("cannot pause a job that is paused");
    expect(again.stderr).toContain("→");
    const noKey = await ferry(["list"], { FERRY_API_KEY: "" });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("FERRY_API_KEY");
    writeFileSync(specFile, JSON.stringify({ ...SPEC, mode: "whenever" }));
    const invalid = await ferry(["create", "--spec", specFile]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("mode:");
  });
});

/**
 * Runs the CLI expecting a failure: ONE message line (`ferry: …`) naming what to fix, ONE advice line
 * (`  → …`), the given exit code within 30 s (a hang is a failure), and no secret on any output.
 */
import { expect } from "vitest";
import { type CliRun, killFerry, runFerry } from "./setup.ts";

export const SOURCE_PASSWORD = "s3cret-src";
export const TARGET_PASSWORD = "t4rget-pw";

/** stderr lines that are not JSON logs: the CLI's own error report. */
function report(run: CliRun): string[] {
  return run
    .stderr()
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("{"));
}

export async function expectFailure(
  args: string[],
  expected: { code: number; message: RegExp; advice: RegExp },
): Promise<CliRun> {
  const run = runFerry(["sync", "--until-synced", ...args]);
  const code = await Promise.race([
    run.exited,
    new Promise<number>((resolve) => setTimeout(() => resolve(-1), 30_000)),
  ]);
  killFerry(run);
  const lines = report(run);
  expect(code, `exit code; stderr:\n${run.stderr()}`).toBe(expected.code);
  // One message line (ferry: …) and one advice line (→ …), nothing else (no stack trace).
  expect(lines, run.stderr()).toHaveLength(2);
  expect(lines[0]).toMatch(/^ferry: /);
  expect(lines[0]).toMatch(expected.message);
  expect(lines[1]).toMatch(/^ {2}→ /);
  expect(lines[1]).toMatch(expected.advice);
  // Nothing left open after the report (a lingering socket or timer once kept the process 2 s).
  expect(run.exitDelayAfterErrorMs()).toBeLessThan(1000);
  for (const secret of [SOURCE_PASSWORD, TARGET_PASSWORD]) {
    expect(run.stderr()).not.toContain(secret);
    expect(run.stdout()).not.toContain(secret);
  }
  return run;
}

/**
 * Issue #4: every wrong setup ends the CLI with ONE clear message (naming the option or the setting
 * to fix, with advice), a non-zero exit code, no password on the output — and never hangs. The
 * target-side refusals (read-only replica, OOM, missing ACL permission) also lose nothing: fixing the
 * target and running the same command again yields an identical copy.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fillDataset } from "../helpers/load.ts";
import { freePort, type RedisProc, startRedis } from "../helpers/redis.ts";
import { type CliRun, differences, killFerry, runFerry } from "./setup.ts";

const SOURCE_PASSWORD = "s3cret-src";
const TARGET_PASSWORD = "t4rget-pw";

/** stderr lines that are not JSON logs: the CLI's own error report. */
function report(run: CliRun): string[] {
  return run
    .stderr()
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("{"));
}

async function expectFailure(
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
  for (const secret of [SOURCE_PASSWORD, TARGET_PASSWORD]) {
    expect(run.stderr()).not.toContain(secret);
    expect(run.stdout()).not.toContain(secret);
  }
  return run;
}

describe("ferry sync: bad input and refusing targets", () => {
  let source: RedisProc;
  let target: RedisProc;
  let http: Server;
  let httpPort: number;
  let src: Redis;
  let dst: Redis;
  const runs: CliRun[] = [];

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startRedis({ password: SOURCE_PASSWORD }),
      startRedis({
        aclUsers: [
          "default on nopass ~* &* +@all",
          // Everything ferry needs except RESTORE: the snapshot's RESTORE … ABSTTL is refused.
          `ferry on >${TARGET_PASSWORD} ~* &* +@all -restore`,
        ],
      }),
    ]);
    src = source.client();
    dst = target.client();
    await fillDataset(src, { keys: 300 });
    http = createServer((_req, res) => res.end("hello\n"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    httpPort = (http.address() as AddressInfo).port;
  });
  afterEach(() => {
    for (const run of runs.splice(0)) killFerry(run);
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const targetUrl = () => `redis://127.0.0.1:${target.port}`;

  it("unreachable host", async () => {
    const port = await freePort();
    await expectFailure(["--source", source.url, "--target", `redis://127.0.0.1:${port}`], {
      code: 1,
      message: new RegExp(`--target: cannot reach 127\\.0\\.0\\.1:${port}`),
      advice: /check the host, the port/,
    });
  });

  it("wrong password (the password is never printed)", async () => {
    await expectFailure(
      ["--source", `redis://:${TARGET_PASSWORD}@127.0.0.1:${source.port}`, "--target", targetUrl()],
      { code: 1, message: /--source: wrong password for user default/, advice: /FERRY_SOURCE_PASSWORD/ },
    );
  });

  it("missing password", async () => {
    await expectFailure(["--source", `redis://127.0.0.1:${source.port}`, "--target", targetUrl()], {
      code: 1,
      message: /--source: 127\.0\.0\.1:\d+ requires a password/,
      advice: /FERRY_SOURCE_PASSWORD/,
    });
  });

  it("a port that does not speak Redis (an HTTP server)", async () => {
    await expectFailure(["--source", source.url, "--target", `redis://127.0.0.1:${httpPort}`], {
      code: 1,
      message: new RegExp(`--target: 127\\.0\\.0\\.1:${httpPort} (does not speak the Redis protocol|closed)`),
      advice: /check the port/,
    });
  });

  it("malformed URLs (exit 2, password masked)", async () => {
    await expectFailure(["--source", `redis://:${SOURCE_PASSWORD}@host:99999`, "--target", targetUrl()], {
      code: 2,
      message: /not a valid Redis URL|invalid port/,
      advice: /redis:\/\//,
    });
    await expectFailure(["--source", source.url, "--target", `127.0.0.1:${target.port}`], {
      code: 2,
      message: /is not a Redis URL \(missing scheme\)/,
      advice: /write it as redis:\/\/127\.0\.0\.1/,
    });
    await expectFailure(["--source", source.url], {
      code: 2,
      message: /--target is required/,
      advice: /--target redis:\/\//,
    });
  });

  it("a read-only replica as target", async () => {
    const replica = await startRedis({ replicaOf: target });
    try {
      await expectFailure(["--source", source.url, "--target", replica.url], {
        code: 1,
        message: /target is a read-only replica/,
        advice: /master's address for --target/,
      });
    } finally {
      await replica.stop();
    }
  });

  it("a target out of memory fails loudly, and a rerun after raising maxmemory completes the copy", async () => {
    await dst.flushall();
    await dst.config("SET", "maxmemory-policy", "noeviction");
    await dst.config("SET", "maxmemory", "1mb");
    try {
      await expectFailure(["--source", source.url, "--target", targetUrl()], {
        code: 1,
        message: /target is out of memory/,
        advice: /maxmemory/,
      });
    } finally {
      await dst.config("SET", "maxmemory", "0");
    }
    const rerun = runFerry(["sync", "--until-synced", "--source", source.url, "--target", targetUrl()]);
    runs.push(rerun);
    expect(await rerun.exited, rerun.stderr()).toBe(0);
    expect(await differences(src, dst, [0, 1])).toEqual([]);
  });

  it("RESTORE refused by the target's ACL fails naming the command, and a rerun with the grant completes", async () => {
    await dst.flushall();
    const userUrl = `redis://ferry:${TARGET_PASSWORD}@127.0.0.1:${target.port}`;
    await expectFailure(["--source", source.url, "--target", userUrl], {
      code: 1,
      message: /RESTORE|restore/,
      advice: /ACL|\+restore|permission/i,
    });
    await dst.call("ACL", "SETUSER", "ferry", "+restore");
    const rerun = runFerry(["sync", "--until-synced", "--source", source.url, "--target", userUrl]);
    runs.push(rerun);
    expect(await rerun.exited, rerun.stderr()).toBe(0);
    expect(await differences(src, dst, [0, 1])).toEqual([]);
  });
});

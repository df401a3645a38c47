/**
 * Issue #4: targets that refuse writes (read-only replica, out of memory, an ACL without RESTORE)
 * end the CLI with ONE clear message and a non-zero exit code — and lose nothing: fixing the target
 * and running the same command again yields an identical copy.
 */
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fillDataset } from "../helpers/load.ts";
import { freePort, type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";
import { expectFailure, SOURCE_PASSWORD, TARGET_PASSWORD } from "./failure.ts";
import { type CliRun, differences, killFerry, runFerry } from "./setup.ts";

describe("ferry sync: targets that refuse writes", () => {
  let source: RedisProc;
  let target: RedisProc;
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
  });
  afterEach(() => {
    for (const run of runs.splice(0)) killFerry(run);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const targetUrl = () => `redis://127.0.0.1:${target.port}`;

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

  it("a target that runs out of memory while streaming stops the job; the rerun continues from the marker", async () => {
    await dst.flushall();
    const port = await freePort();
    const args = ["sync", "--source", source.url, "--target", targetUrl(), "--job", "stream-oom"];
    const first = runFerry([...args, "--status-port", String(port)]);
    runs.push(first);
    await waitFor(async () => {
      const s = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { phase: string };
      return s.phase === "streaming";
    }, 20_000);
    await dst.config("SET", "maxmemory-policy", "noeviction");
    await dst.config("SET", "maxmemory", "1");
    try {
      for (let i = 0; i < 50; i++) await src.incr("oom:counter");
      expect(await first.exited, first.stderr()).toBe(1);
      expect(first.stderr()).toMatch(/^ferry: target is out of memory/m);
    } finally {
      await dst.config("SET", "maxmemory", "0");
    }
    await src.incr("oom:counter");
    const rerun = runFerry([...args, "--until-synced"]);
    runs.push(rerun);
    expect(await rerun.exited, rerun.stderr()).toBe(0);
    // Resumed from the offset in the marker: no second snapshot, and every INCR counted once.
    expect(rerun.stderr()).toContain("partial resync");
    expect(rerun.stderr()).not.toContain("full resync");
    expect(await dst.get("oom:counter")).toBe("51");
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

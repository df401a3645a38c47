/**
 * Issue #12 through the real executable: a source with PSYNC and SYNC renamed away makes `ferry
 * sync` fail with the advice to use scan mode; `--source-mode scan --until-synced` then copies it;
 * `--source-rdb` restores a file and exits.
 */
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fillDataset } from "../helpers/load.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { type CliRun, differences, killFerry, logLines, runFerry } from "../sync/setup.ts";

describe("ferry sync readers (CLI)", () => {
  let source: RedisProc;
  let target: RedisProc;
  let src: Redis;
  let dst: Redis;
  let run: CliRun | undefined;

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startRedis({
        config: {
          "rename-command PSYNC": '""',
          "rename-command SYNC": '""',
          "notify-keyspace-events": "KEA",
        },
      }),
      startRedis(),
    ]);
    src = source.client();
    dst = target.client();
    await fillDataset(src, { keys: 200 });
  });
  afterEach(() => killFerry(run));
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("PSYNC renamed away: fails and suggests --source-mode scan", async () => {
    run = runFerry(["sync", "--source", source.url, "--target", target.url]);
    const code = await run.exited;
    expect(code).toBe(1);
    expect(run.stderr()).toMatch(/refused PSYNC: ERR unknown command/);
    expect(run.stderr()).toContain("--source-mode scan");
  });

  it("--source-mode scan --until-synced copies the same source and exits 0", async () => {
    await dst.flushall();
    run = runFerry([
      "sync",
      "--source",
      source.url,
      "--target",
      target.url,
      "--source-mode",
      "scan",
      "--until-synced",
      "--cleanup",
    ]);
    const code = await run.exited;
    expect(code, run.stderr()).toBe(0);
    expect(await differences(src, dst, [0, 1])).toEqual([]);
    const logs = logLines(run.stderr());
    expect(logs.some((l) => String(l["msg"]).startsWith("synced:"))).toBe(true);
  });

  it("--source-rdb restores a file and exits 0", async () => {
    await dst.flushall();
    const file = join(import.meta.dirname, "../fixtures/rdb-corpus/generated/redis-7.0.15.rdb");
    run = runFerry(["sync", "--source-rdb", file, "--target", target.url]);
    const code = await run.exited;
    expect(code, run.stderr()).toBe(0);
    await dst.select(3);
    expect(await dst.get("db3:key")).toBe("in db 3");
    await dst.select(0);
    expect(await dst.keys("__ferry:*")).toEqual([]);
  });
});

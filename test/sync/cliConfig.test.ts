/**
 * Issue #4 (CLI): `--config ferry.toml` and `ferry.json` work, and command-line flags win.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { markerKey } from "../../core/writer/marker.ts";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset } from "../helpers/load.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { type CliRun, differences, killFerry, runFerry } from "./setup.ts";

describe("ferry sync (CLI): --config", () => {
  let source: RedisProc;
  let target: RedisProc;
  let src: Redis;
  let dst: Redis;
  let run: CliRun | undefined;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    src = source.client();
    dst = target.client();
    await fillDataset(src, { keys: 300 });
  });
  afterEach(() => killFerry(run));
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("reads --config from .toml and .json, and command-line flags win", async () => {
    const dir = source.dir;
    const toml = join(dir, "ferry.toml");
    writeFileSync(
      toml,
      [
        `source = "${source.url}"`,
        `target = "redis://127.0.0.1:1"`,
        `job = "from-file"`,
        `marker-prefix = "__mig:"`,
        "until-synced = true",
      ].join("\n"),
    );
    await dst.flushall();
    run = runFerry(["sync", "--config", toml, "--target", target.url]);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(await dst.exists(markerKey("__mig:", "from-file", "standalone"))).toBe(1);
    expect(await compareServers(src, dst, { dbs: [0, 1], ignorePrefix: "__mig:" })).toEqual([]);

    const json = join(dir, "ferry.json");
    writeFileSync(
      json,
      JSON.stringify({ source: source.url, target: target.url, job: "json-job", "until-synced": true }),
    );
    await dst.flushall();
    run = runFerry(["sync", "--config", json, "--job", "cli-job"]);
    expect(await run.exited, run.stderr()).toBe(0);
    expect(await dst.exists(markerKey("__ferry:", "cli-job", "standalone"))).toBe(1);
    expect(await dst.exists(markerKey("__ferry:", "json-job", "standalone"))).toBe(0);
    expect(await differences(src, dst, [0, 1])).toEqual([]);
  });
});

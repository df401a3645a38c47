/**
 * Issue #4 (CLI): `--config ferry.toml` and `ferry.json` work, and command-line flags win.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { markerKey } from "../../core/writer/marker.ts";
import { compareServers } from "../helpers/compare.ts";
import { type CliRun, differences, killFerry, runFerry, useFilledServers } from "./setup.ts";

describe("ferry sync (CLI): --config", () => {
  const servers = useFilledServers(300);
  let run: CliRun | undefined;
  afterEach(() => killFerry(run));

  it("reads --config from .toml and .json, and command-line flags win", async () => {
    const { source, target, src, dst } = servers;
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

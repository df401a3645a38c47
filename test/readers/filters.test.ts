/**
 * Issue #12, filters end to end: every filter kind in a running sync, in PSYNC and in scan mode,
 * checked key by key on the target (snapshot keys and live writes), counted in status() and in
 * /metrics' ferry_filtered_total; a FLUSHALL on the source leaves the target's data alone.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FilterSpec } from "../../core/filters/index.ts";
import { SyncJob } from "../../core/jobs/syncJob.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import type { SourceMode } from "../../core/readers/types.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";
import { syncConfig } from "../sync/setup.ts";

const SPEC: FilterSpec = {
  includePrefixes: ["keep:", "old:"],
  excludeGlobs: ["*:tmp:*"],
  excludeRegexes: ["^keep:re[0-9]+$"],
  excludeTypes: ["stream"],
  excludeDbs: [2],
  dbMap: { "1": 5 },
  renamePrefixes: [{ from: "old:", to: "new:" }],
};

/** Target db → keys that must be there (everything else in that db must not). */
const EXPECTED: Record<number, string[]> = {
  0: ["keep:a", "keep:l", "keep:z", "new:k", "keep:live", "new:live"],
  1: [],
  2: [],
  5: ["keep:db1"],
};

async function seed(src: Redis): Promise<void> {
  await src.flushall();
  await src.set("keep:a", "1");
  await src.rpush("keep:l", "x", "y");
  await src.zadd("keep:z", 1, "m");
  await src.set("old:k", "renamed");
  await src.set("skip:x", "1");
  await src.set("keep:tmp:1", "1");
  await src.set("keep:re1", "1");
  await src.xadd("keep:s", "*", "f", "v");
  await src.select(1);
  await src.set("keep:db1", "mapped");
  await src.select(2);
  await src.set("keep:db2", "excluded db");
  await src.select(0);
}

async function liveWrites(src: Redis): Promise<void> {
  await src.set("keep:live", "1");
  await src.set("skip:live", "1");
  await src.set("old:live", "1");
  await src.set("keep:tmp:live", "1");
  await src.select(2);
  await src.set("keep:db2live", "1");
  await src.select(0);
}

async function targetKeys(dst: Redis, db: number): Promise<string[]> {
  await dst.select(db);
  const keys = (await dst.keys("*")).filter((k) => !k.startsWith("__ferry:")).sort();
  await dst.select(0);
  return keys;
}

describe.each(["psync", "scan"] as SourceMode[])("filters end to end (%s mode)", (mode) => {
  let source: RedisProc;
  let target: RedisProc;
  let src: Redis;
  let dst: Redis;

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startRedis({ config: { "notify-keyspace-events": "KEA" } }),
      startRedis(),
    ]);
    src = source.client();
    dst = target.client();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("copies exactly the allowed keys, renamed and db-mapped, and counts the rest", async () => {
    await seed(src);
    const job = await SyncJob.open({
      config: syncConfig(source.url, target.url, { job: `filters-${mode}` }),
      filters: SPEC,
      log: silentLogger(),
      sourceMode: mode,
    });
    const running = job.run();
    try {
      await waitFor(async () => (await targetKeys(dst, 5)).length === 1, 15_000);
      await liveWrites(src);
      await waitFor(async () => (await targetKeys(dst, 0)).length === EXPECTED[0]!.length, 15_000);
      for (const [db, keys] of Object.entries(EXPECTED))
        expect(await targetKeys(dst, Number(db)), `db ${db}`).toEqual([...keys].sort());
      expect(await dst.get("new:k")).toBe("renamed");
      expect(await dst.lrange("keep:l", 0, -1)).toEqual(["x", "y"]);
      await dst.select(5);
      expect(await dst.get("keep:db1")).toBe("mapped");
      await dst.select(0);

      const status = job.status();
      expect(status.filtered.keys + status.filtered.commands).toBeGreaterThanOrEqual(5);
      await sleep(1100); // the exporter's interval
      const metrics = await job.metrics.registry.metrics();
      const line = metrics
        .split("\n")
        .find((l) => l.startsWith(`ferry_filtered_total{job="filters-${mode}",reason="keys"}`));
      expect(Number(line?.split(" ").pop())).toBeGreaterThan(0);

      // FLUSHALL on the source: dropped from the stream (PSYNC) / not a key event (scan).
      await src.flushall();
      await src.set("keep:after-flush", "1");
      await waitFor(async () => (await dst.exists("keep:after-flush")) === 1, 15_000);
      expect(await dst.get("keep:a")).toBe("1");
      expect(await targetKeys(dst, 0)).toContain("new:k");
    } finally {
      await job.stop();
      await running;
    }
  });
});

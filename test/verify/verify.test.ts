import { spawnSync } from "node:child_process";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runVerify } from "../../core/verify/run.ts";
import type { VerifyOptions, VerifyReport } from "../../core/verify/types.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { populate } from "./populate.ts";

const QUICK: Partial<VerifyOptions> = { recheckDelayMs: 20, rechecks: 1 };

describe("ferry verify (standalone)", () => {
  let source: RedisProc;
  let target: RedisProc;
  let src: Redis;
  let dst: Redis;
  const verify = (options: Partial<VerifyOptions> = {}): Promise<VerifyReport> =>
    runVerify({
      source: { host: "127.0.0.1", port: source.port },
      target: { host: "127.0.0.1", port: target.port },
      options: { ...QUICK, ...options },
    });

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    src = source.client();
    dst = target.client();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });
  beforeEach(async () => {
    await Promise.all([src.flushall(), dst.flushall()]);
    for (const client of [src, dst]) {
      await client.select(0);
      await populate(client);
      await client.select(3);
      await populate(client, "db3:");
      await client.select(0);
    }
    // The sync's exactly-once marker lives only on the target and must be ignored.
    await dst.set("__ferry:job1:standalone", "abc:100:0");
  });

  it("identical datasets (all types, streams with groups, TTLs, two dbs) → equal", async () => {
    const report = await verify();
    expect(report.differences).toEqual([]);
    expect(report.equal).toBe(true);
    expect(report.counts).toMatchObject({
      checked: 20,
      equal: 20,
      missing: 0,
      extra: 0,
      different: 0,
      ttlDiffers: 0,
    });
  });

  it.each([
    [
      "missing key",
      async () => void (await dst.del("str")),
      { kind: "missing", key: "str", reason: "missing on target (source: string)" },
    ],
    [
      "extra key",
      async () => void (await dst.set("stray", "1")),
      { kind: "extra", key: "stray", reason: "on target only" },
    ],
    [
      "TTL removed",
      async () => void (await dst.persist("ttl")),
      { kind: "ttl", key: "ttl", reason: expect.stringMatching(/^TTL \d+ ms on source, none on target$/) },
    ],
    [
      "hash field differs",
      async () => void (await dst.hset("hash", "f2", "changed")),
      { kind: "different", key: "hash", reason: "hash field f2 differs" },
    ],
    [
      "big hash field differs (scan + probe)",
      async () => void (await dst.hset("bighash", "f777", "x")),
      { kind: "different", key: "bighash", reason: "hash field f777 differs" },
    ],
    [
      "big set member differs",
      async () => void (await dst.multi().srem("bigset", "m5").sadd("bigset", "other").exec()),
      { kind: "different", key: "bigset", reason: "set member m5 missing on target" },
    ],
    [
      "zset score differs",
      async () => void (await dst.zadd("zset", 5, "two")),
      { kind: "different", key: "zset", reason: "zset member two score 2 on source, 5 on target" },
    ],
    [
      "stream group differs",
      async () => void (await dst.xgroup("SETID", "stream", "g2", "3-0")),
      {
        kind: "different",
        key: "stream",
        reason: expect.stringMatching(/^stream group g2 last-delivered-id 5-0 on source, 3-0 on target/),
      },
    ],
    [
      "stream pending entry differs",
      async () => void (await dst.xack("stream", "g1", "2-0")),
      {
        kind: "different",
        key: "stream",
        reason: expect.stringMatching(/^stream group g1 pending 2 on source, 1 on target/),
      },
    ],
    [
      "type differs",
      async () => void (await dst.multi().del("list").sadd("list", "a").exec()),
      { kind: "different", key: "list", reason: "type list on source, set on target" },
    ],
  ])("%s → reported exactly", async (_name, inject, expected) => {
    await inject();
    const report = await verify();
    expect(report.equal).toBe(false);
    expect(report.differences).toHaveLength(1);
    const [d] = report.differences;
    expect({ kind: d!.kind, key: d!.key.toString(), reason: d!.reason }).toEqual(expected);
    expect(d!.db).toBe(0);
  });

  it("db mapping: db3 of the source compared with db1 of the target", async () => {
    await dst.select(3);
    await dst.move("db3:str", 1);
    await dst.select(0);
    const report = await verify({ dbMap: new Map([[3, 1]]), extra: false });
    // Only db3:str was moved to db1; the other 9 db3 keys are missing from target db1.
    expect(report.counts.checked).toBe(10);
    expect(report.counts.equal).toBe(1);
    expect(report.counts.missing).toBe(9);
  });

  it("a difference fixed before the recheck is not reported (live sync tolerance)", async () => {
    await dst.del("str");
    const fix = setTimeout(() => void dst.set("str", "hello"), 100);
    const report = await verify({ recheckDelayMs: 300, rechecks: 2 });
    clearTimeout(fix);
    expect(report.equal).toBe(true);
  });

  it("fast mode: sizes, not contents", async () => {
    await dst.lset("list", 1, "B");
    expect((await verify({ mode: "fast" })).equal).toBe(true);
    expect((await verify({ mode: "full" })).differences[0]?.reason).toBe("list element 1 differs");
  });

  it("key filter hook and sample", async () => {
    await dst.del("str");
    const filtered = await verify({ keyFilter: (_db, key) => key.toString().startsWith("db3:") });
    expect(filtered.equal).toBe(true);
    expect(filtered.counts.checked).toBe(10);
    const sampled = await verify({ sample: 0.5 });
    expect(sampled.counts.checked).toBeLessThan(20);
  });

  it("CLI: exit 1 and the differing key; --json shape; exit 0 when equal", () => {
    const args = [
      "bin/ferry.mjs",
      "verify",
      "--source",
      source.url,
      "--target",
      target.url,
      "--recheck-delay-ms",
      "10",
      "--rechecks",
      "1",
    ];
    const equal = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
    expect(equal.stdout).toContain("source and target are equal");
    expect(equal.status).toBe(0);
    spawnSync("redis-cli", ["-p", String(target.port), "del", "str"]);
    const json = spawnSync(process.execPath, [...args, "--json"], { encoding: "utf8", timeout: 30_000 });
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.counts.missing).toBe(1);
    expect(report.differences[0]).toMatchObject({
      kind: "missing",
      key: "str",
      keyBase64: Buffer.from("str").toString("base64"),
    });
    const bad = spawnSync(process.execPath, [...args, "--db-map", "x"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(bad.status).toBe(2);
  });
});

/**
 * Real RDBs written by Redis 6.2/7.0/7.2/7.4 and Valkey, parsed, translated and applied to a fresh
 * Redis 7.0 (the server CI has): the target must then hold exactly what the fixture's JSON says the
 * source held — through RESTORE when the target accepts the payload version, through the command
 * rewrite otherwise or when forced, and through the chunked big-key path.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileFilter } from "../../core/filters/filter.ts";
import { RdbParser } from "../../core/rdb/parser.ts";
import type { RdbEvent } from "../../core/rdb/types.ts";
import {
  type SnapshotCommand,
  SnapshotTranslator,
  type SnapshotTranslatorOptions,
  targetInfoFromInfo,
} from "../../core/snapshot/index.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { type Fixture, normalizeFixture, readKeyspace } from "./expected.ts";

const DIR = join(import.meta.dirname, "../fixtures/rdb-corpus/generated");

function load(name: string): { rdb: Buffer; fixture: Fixture } {
  return {
    rdb: readFileSync(join(DIR, `${name}.rdb`)),
    fixture: JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8")) as Fixture,
  };
}

function translateAll(
  rdb: Buffer,
  opts: SnapshotTranslatorOptions,
  parser: { bigKeyThreshold?: number; chunkBytes?: number } = {},
): { commands: SnapshotCommand[]; translator: SnapshotTranslator; events: RdbEvent[] } {
  const translator = new SnapshotTranslator(opts);
  const commands: SnapshotCommand[] = [];
  const events: RdbEvent[] = [];
  const p = new RdbParser({ captureRaw: true, ...parser }, (e) => {
    events.push(e);
    commands.push(...translator.translate(e));
  });
  // Feed in odd-sized slices, as a socket would.
  for (let i = 0; i < rdb.length; i += 4093) p.write(rdb.subarray(i, i + 4093));
  p.end();
  return { commands, translator, events };
}

async function applyAll(client: Redis, commands: SnapshotCommand[]): Promise<void> {
  let db = -1;
  let pipe = client.pipeline();
  for (const c of commands) {
    if (c.db !== db) {
      pipe.select(c.db);
      db = c.db;
    }
    pipe.callBuffer(c.argv[0]!.toString(), ...c.argv.slice(1));
  }
  const results = (await pipe.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
  pipe = client.pipeline();
}

describe("snapshot translation of real RDBs onto Redis 7.0", () => {
  let target: RedisProc;
  let client: Redis;
  let opts: SnapshotTranslatorOptions;
  beforeAll(async () => {
    target = await startRedis();
    client = target.client();
    opts = { target: targetInfoFromInfo(await client.info("server")) };
  });
  afterAll(async () => {
    await target?.stop();
  });

  async function check(name: string, extra: Partial<SnapshotTranslatorOptions>, parser = {}) {
    await client.flushall();
    await client.call("FUNCTION", "FLUSH");
    const { rdb, fixture } = load(name);
    const { commands, translator } = translateAll(rdb, { ...opts, ...extra }, parser);
    await applyAll(client, commands);
    const dbs = Object.keys(fixture.dbs).map(Number);
    expect(await readKeyspace(client, dbs)).toEqual(normalizeFixture(fixture));
    if (fixture.function_names) {
      const libs = (await client.call("FUNCTION", "LIST")) as unknown[][];
      expect(libs.map((l) => String(l[1]))).toEqual(fixture.function_names);
    }
    return translator.counters;
  }

  it("reads the target's RDB version from INFO", () => {
    expect(opts.target).toMatchObject({
      flavor: "redis",
      rdbVersion: 10,
      features: { hashFieldExpire: false },
    });
  });

  it("redis-7.0.15: RESTOREs every key (same RDB version)", async () => {
    const c = await check("redis-7.0.15", {});
    expect(c.restored).toBe(c.keys);
    expect(c.rewritten).toBe(0);
    expect(c.functions).toBe(1);
    expect(c.byType).toMatchObject({ string: 9, stream: 1 });
  });

  it("redis-6.2.16: RESTOREs the older payload version", async () => {
    const c = await check("redis-6.2.16", {});
    expect(c.restored).toBe(c.keys);
  });

  it("redis-7.0.15: the command rewrite gives the same keyspace", async () => {
    const c = await check("redis-7.0.15", { restore: "never", limits: { maxElements: 50 } });
    expect(c.restored).toBe(0);
    expect(c.rewritten).toBe(c.keys);
  });

  it("redis-7.0.15: the chunked big-key path gives the same keyspace", async () => {
    const c = await check("redis-7.0.15", {}, { bigKeyThreshold: 256, chunkBytes: 300 });
    expect(c.bigKeys).toBeGreaterThan(4);
    expect(c.restored + c.bigKeys).toBe(c.keys);
  });

  it("redis-7.2.6 and valkey (RDB 11) onto 7.0 (RDB 10): rewritten, since 7.0 refuses the payload", async () => {
    for (const name of ["redis-7.2.6", "valkey-unstable-20241025"]) {
      const c = await check(name, {});
      expect(c.restored, name).toBe(0);
      expect(c.rewritten, name).toBe(c.keys);
    }
  });

  it("redis-7.4.1: hash field TTLs are refused on 7.0 unless filtered out", async () => {
    const { rdb } = load("redis-7.4.1");
    expect(() => translateAll(rdb, opts)).toThrow(/TTL/);
    const filter = compileFilter({ excludeGlobs: ["hfe:*"] });
    const { commands, translator } = translateAll(rdb, { ...opts, filter });
    await client.flushall();
    await applyAll(client, commands);
    const fixture = load("redis-7.4.1").fixture;
    for (const db of Object.values(fixture.dbs)) {
      for (const key of Object.keys(db))
        if (Buffer.from(key, "base64").toString().startsWith("hfe:")) delete db[key];
    }
    expect(await readKeyspace(client, Object.keys(fixture.dbs).map(Number))).toEqual(
      normalizeFixture(fixture),
    );
    expect(translator.counters.filtered).toBe(2);
  });

  it("skips keys already expired, maps dbs and renames keys", async () => {
    const { rdb } = load("redis-7.0.15");
    const filter = compileFilter({ dbMap: { "3": 5 }, renamePrefixes: [{ from: "db3:", to: "moved:" }] });
    // A clock in 2200: every key with a TTL (2100-01-01) is already expired.
    const { commands, translator } = translateAll(rdb, {
      ...opts,
      filter,
      clock: { now: () => 7258118400000 },
    });
    await client.flushall();
    await applyAll(client, commands);
    expect(translator.counters.skippedExpired).toBe(2);
    await client.select(5);
    expect(await client.get("moved:key")).toBe("in db 3");
    await client.select(0);
    expect(await client.exists("str:expire", "hash:expire")).toBe(0);
  });
});

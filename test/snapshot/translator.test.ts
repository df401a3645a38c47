import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FatalError } from "../../core/errors.ts";
import { compileFilter } from "../../core/filters/filter.ts";
import { RdbParser } from "../../core/rdb/parser.ts";
import { parseDumpPayload } from "../../core/rdb/payload.ts";
import type { KeyMeta, RdbEvent } from "../../core/rdb/types.ts";
import {
  acceptsPayload,
  rdbVersionFor,
  type SnapshotCommand,
  SnapshotTranslator,
  targetInfo,
  targetInfoFromInfo,
} from "../../core/snapshot/index.ts";

const B = (s: string): Buffer => Buffer.from(s);
const text = (cmds: SnapshotCommand[]): string[][] => cmds.map((c) => [String(c.db), ...c.argv.map(String)]);
const NOW = 1_700_000_000_000;
const clock = { now: () => NOW };

describe("target RDB version and features", () => {
  it("maps server versions to the RDB version of their rdb.h", () => {
    const redis: [string, number][] = [
      ["2.6.17", 6],
      ["2.8.24", 6],
      ["3.0.7", 6],
      ["3.2.12", 7],
      ["4.0.14", 8],
      ["5.0.14", 9],
      ["6.0.20", 9],
      ["6.2.16", 9],
      ["7.0.15", 10],
      ["7.2.6", 11],
      ["7.4.1", 12],
      ["8.0.2", 12],
      ["8.2.1", 12],
      ["8.6.0", 13],
    ];
    for (const [version, rdb] of redis) expect(rdbVersionFor("redis", version), version).toBe(rdb);
    const valkey: [string, number][] = [
      ["7.2.5", 11],
      ["8.0.1", 11],
      ["8.1.0", 11],
      ["9.0.0", 80],
      ["9.2.0", 81],
    ];
    for (const [version, rdb] of valkey) expect(rdbVersionFor("valkey", version), version).toBe(rdb);
  });

  it("reads INFO server, preferring valkey_version over the compatibility redis_version", () => {
    const valkey = targetInfoFromInfo(
      "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.0.0\r\n",
    );
    expect(valkey).toMatchObject({
      flavor: "valkey",
      version: "9.0.0",
      rdbVersion: 80,
      features: { hashFieldExpire: true },
    });
    const redis = targetInfoFromInfo("# Server\r\nredis_version:6.2.16\r\n");
    expect(redis).toMatchObject({
      flavor: "redis",
      rdbVersion: 9,
      features: { streamMetadata: false, createConsumer: true, functions: false },
    });
    expect(() => targetInfoFromInfo("# Server\r\n")).toThrow(/redis_version/);
  });

  it("accepts payloads up to the target's version, never Redis 12–79 on Valkey", () => {
    expect(acceptsPayload(targetInfo("redis", "7.0.0"), 10)).toBe(true);
    expect(acceptsPayload(targetInfo("redis", "7.0.0"), 11)).toBe(false);
    expect(acceptsPayload(targetInfo("valkey", "9.0.0"), 11)).toBe(true);
    expect(acceptsPayload(targetInfo("valkey", "9.0.0"), 12)).toBe(false);
    expect(acceptsPayload(targetInfo("redis", "8.6.0"), 80)).toBe(false);
  });
});

function meta(key: string, extra: Partial<KeyMeta> = {}): KeyMeta {
  return { db: 0, key: B(key), rdbType: 0, ...extra };
}

function run(translator: SnapshotTranslator, events: RdbEvent[]): SnapshotCommand[] {
  return events.flatMap((e) => translator.translate(e));
}

describe("SnapshotTranslator", () => {
  const target = targetInfo("redis", "7.0.15");

  it("RESTOREs with an absolute TTL and the source payload version", () => {
    const t = new SnapshotTranslator({ target, clock });
    const out = run(t, [
      { kind: "header", magic: "REDIS", version: 9 },
      {
        kind: "key",
        meta: meta("k", { expireAtMs: NOW + 5000 }),
        value: { type: "string", value: B("v") },
        raw: B("\x01v"),
      },
    ]);
    expect(out).toHaveLength(1);
    const [name, key, ttl, payload, ...flags] = out[0]!.argv;
    expect([String(name), String(key), String(ttl), ...flags.map(String)]).toEqual([
      "RESTORE",
      "k",
      String(NOW + 5000),
      "ABSTTL",
      "REPLACE",
    ]);
    expect(parseDumpPayload(payload!)).toMatchObject({ rdbType: 0, rdbVersion: 9, valueBytes: B("\x01v") });
    expect(t.counters).toMatchObject({ keys: 1, restored: 1, byType: { string: 1 } });
  });

  it("rewrites a newer payload version as DEL + commands + PEXPIREAT, and skips expired keys", () => {
    const t = new SnapshotTranslator({ target, clock });
    const out = run(t, [
      { kind: "header", magic: "REDIS", version: 11 },
      {
        kind: "key",
        meta: meta("gone", { expireAtMs: NOW }),
        value: { type: "string", value: B("v") },
        raw: B("x"),
      },
      {
        kind: "key",
        meta: meta("s", { db: 2, expireAtMs: NOW + 1 }),
        value: { type: "set", value: [B("a"), B("b")] },
        raw: B("x"),
      },
    ]);
    expect(text(out)).toEqual([
      ["2", "DEL", "s"],
      ["2", "SADD", "s", "a", "b"],
      ["2", "PEXPIREAT", "s", String(NOW + 1)],
    ]);
    expect(t.counters).toMatchObject({ keys: 1, skippedExpired: 1, rewritten: 1 });
  });

  it("writes big keys as DEL, chunks, stream groups, PEXPIREAT; filtered big keys produce nothing", () => {
    const filter = compileFilter({ excludePrefixes: ["skip"], dbMap: { "0": 4 } });
    const t = new SnapshotTranslator({ target, clock, filter });
    const m = meta("x", { rdbType: 15, expireAtMs: NOW + 9 });
    const skip = meta("skip:l", { rdbType: 18 });
    const id = (n: number) => ({ ms: BigInt(n), seq: 0n });
    const out = run(t, [
      { kind: "header", magic: "REDIS", version: 10 },
      { kind: "key-begin", meta: skip, valueType: "list" },
      { kind: "key-chunk", meta: skip, chunk: { type: "list", value: [B("1")] } },
      { kind: "key-end", meta: skip },
      { kind: "key-begin", meta: m, valueType: "stream" },
      {
        kind: "key-chunk",
        meta: m,
        chunk: { type: "stream", value: [{ id: id(1), fields: [B("f"), B("v")] }] },
      },
      {
        kind: "key-end",
        meta: m,
        streamMeta: {
          length: 1,
          lastId: id(1),
          entriesAdded: 1,
          groups: [{ name: B("g"), lastId: id(1), entriesRead: 1, pending: [], consumers: [] }],
        },
      },
    ]);
    expect(text(out)).toEqual([
      ["4", "DEL", "x"],
      ["4", "XADD", "x", "1-0", "f", "v"],
      ["4", "XSETID", "x", "1-0", "ENTRIESADDED", "1"],
      ["4", "XGROUP", "CREATE", "x", "g", "1-0", "ENTRIESREAD", "1"],
      ["4", "PEXPIREAT", "x", String(NOW + 9)],
    ]);
    expect(t.counters).toMatchObject({ keys: 1, bigKeys: 1, filtered: 1 });
  });

  it("loads functions and pre-7.0 scripts; refuses functions on a target without them", () => {
    const t = new SnapshotTranslator({ target, clock });
    const out = run(t, [
      { kind: "aux", key: B("lua"), value: B("return 1") },
      { kind: "aux", key: B("redis-ver"), value: B("6.2.0") },
      { kind: "function", code: B("#!lua name=lib\n") },
    ]);
    expect(text(out)).toEqual([
      ["0", "SCRIPT", "LOAD", "return 1"],
      ["0", "FUNCTION", "LOAD", "REPLACE", "#!lua name=lib\n"],
    ]);
    const old = new SnapshotTranslator({ target: targetInfo("redis", "6.2.16"), clock });
    expect(() => old.translate({ kind: "function", code: B("x") })).toThrow(FatalError);
    const off = new SnapshotTranslator({ target: targetInfo("redis", "6.2.16"), clock, functions: false });
    expect(off.translate({ kind: "function", code: B("x") })).toEqual([]);
  });

  it("RESTOREs module values, and names key and module when it cannot", () => {
    const rdb = readFileSync(
      join(import.meta.dirname, "../fixtures/rdb-corpus/redis-rdb-tools/redis_40_with_module.rdb"),
    );
    const translate = (t: SnapshotTranslator): SnapshotCommand[] => {
      const out: SnapshotCommand[] = [];
      const p = new RdbParser({ captureRaw: true }, (e) => out.push(...t.translate(e)));
      p.write(rdb);
      p.end();
      return out;
    };
    const restored = translate(new SnapshotTranslator({ target, clock }));
    expect(restored.map((c) => `${c.argv[0]} ${c.argv[1]}`)).toEqual(["RESTORE simplekey", "RESTORE foo"]);
    expect(() => translate(new SnapshotTranslator({ target: targetInfo("redis", "3.2.0"), clock }))).toThrow(
      /key "foo" holds a value of module ReJSON-RL/,
    );
    expect(() => translate(new SnapshotTranslator({ target, clock, restore: "never" }))).toThrow(/ReJSON-RL/);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dumpPayload } from "../../core/rdb/payload.ts";
import type { RdbEvent, RdbValue } from "../../core/rdb/types.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { CORRUPT_FILES, corpusFiles, parseEvents } from "./helpers.ts";

/** The local server (Debian's 7.0.15) writes and accepts RDB version 10. */
const LOCAL_RDB_VERSION = 10;

type KeyEvent = Extract<RdbEvent, { kind: "key" }>;

/** Redis replies "inf"/"-inf" for infinite scores. */
function replyScore(text: string): number {
  return text === "inf"
    ? Number.POSITIVE_INFINITY
    : text === "-inf"
      ? Number.NEGATIVE_INFINITY
      : Number(text);
}

/** The value as Redis replies show it, for comparing what RESTORE produced. */
async function readBack(client: Redis, key: Buffer, type: RdbValue["type"]): Promise<unknown> {
  switch (type) {
    case "string":
      return client.getBuffer(key);
    case "list":
      return client.lrangeBuffer(key, 0, -1);
    case "set":
      return (await client.smembersBuffer(key)).sort(Buffer.compare);
    case "zset": {
      const flat = await client.zrangeBuffer(key, 0, -1, "WITHSCORES");
      const out: Array<[Buffer, number]> = [];
      for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, replyScore(String(flat[i + 1]))]);
      return out;
    }
    case "hash": {
      const flat = (await client.callBuffer("HGETALL", key)) as Buffer[];
      const out: Array<[Buffer, Buffer]> = [];
      for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
      return out.sort((a, b) => Buffer.compare(a[0], b[0]));
    }
    case "stream": {
      const entries = (await client.callBuffer("XRANGE", key, "-", "+")) as Array<[Buffer, Buffer[]]>;
      return entries.map(([id, fields]) => [id.toString(), fields]);
    }
    default:
      throw new Error(`no read-back for ${type}`);
  }
}

function expectedOf(value: RdbValue): unknown {
  switch (value.type) {
    case "string":
      return value.value;
    case "list":
      return value.value;
    case "set":
      return [...value.value].sort(Buffer.compare);
    case "zset":
      return [...value.value]
        .sort((a, b) => a.score - b.score || Buffer.compare(a.member, b.member))
        .map((e) => [e.member, e.score]);
    case "hash":
      return value.value.map((e) => [e.field, e.value]).sort((a, b) => Buffer.compare(a[0]!, b[0]!));
    case "stream":
      return value.value.map((e) => [`${e.id.ms}-${e.id.seq}`, e.fields]);
    default:
      return undefined;
  }
}

let server: RedisProc;
let client: Redis;

beforeAll(async () => {
  server = await startRedis({
    config: {
      // Force every encoding 7.0 has: small listpacks, multi-node and compressed quicklists.
      "list-max-listpack-size": "4",
      "list-compress-depth": "1",
      "hash-max-listpack-entries": "4",
      "zset-max-listpack-entries": "4",
      "set-max-intset-entries": "4",
      rdbcompression: "yes",
    },
  });
  client = server.client();
});

afterAll(async () => {
  await server?.stop();
});

describe("RESTORE of built payloads into redis-server 7.0", () => {
  for (const [name, bytes] of corpusFiles().filter(([n]) => !CORRUPT_FILES.has(n))) {
    const version =
      bytes.subarray(0, 5).toString() === "REDIS" ? Number(bytes.subarray(5, 9).toString()) : 99;
    if (version > LOCAL_RDB_VERSION) continue;
    it(`${name} (RDB ${version})`, async () => {
      const keys = parseEvents(bytes, { captureRaw: true }).filter(
        (e): e is KeyEvent => e.kind === "key" && e.value.type !== "module",
      );
      await client.flushall();
      for (const [i, { meta, value, raw }] of keys.entries()) {
        const target = Buffer.concat([Buffer.from(`${i}:`), meta.key]);
        await client.restore(target, 0, dumpPayload(meta.rdbType, raw!, version), "REPLACE");
        expect(await readBack(client, target, value.type), `${name} ${meta.key}`).toEqual(expectedOf(value));
      }
    });
  }
});

describe("our payload equals DUMP for keys written by the local server", () => {
  it("covers every type and encoding 7.0 writes", async () => {
    await client.flushall();
    await client.set("str:int", "12345");
    await client.set("str:raw", "hello");
    await client.set("str:lzf", "abc".repeat(500));
    await client.set("str:bin", Buffer.from([0, 255, 1, 254, 13, 10]));
    await client.set("str:empty", "");
    await client.set("str:ttl", "v", "PXAT", 4102444800000);
    await client.rpush("list:small", "a", "1", "-2", "99999999999");
    await client.rpush("list:big", ...Array.from({ length: 50 }, (_, i) => `item-${i}`));
    // Plain quicklist nodes hold one element above the packed threshold (a debug-only knob).
    await client.call("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100");
    await client.rpush("list:plain", "x".repeat(300), "small", "y".repeat(200));
    await client.sadd("set:intset", 1, 2, -3);
    await client.sadd("set:big", ...Array.from({ length: 20 }, (_, i) => `m-${i}`));
    await client.zadd("zset:small", 1, "a", 2.5, "b");
    await client.zadd(
      "zset:big",
      "-inf",
      "bottom",
      "+inf",
      "top",
      ...Array.from({ length: 20 }, (_, i) => [i / 2, `m-${i}`]).flat(),
    );
    await client.hset("hash:small", "f1", "v1", "f2", "2");
    await client.hset(
      "hash:big",
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f-${i}`, `v-${i}`])),
    );
    for (let i = 1; i <= 6; i++) await client.xadd("stream", `${i}-1`, "field", `v${i}`, "n", String(i));
    await client.xdel("stream", "3-1");
    await client.xgroup("CREATE", "stream", "g1", "0");
    await client.xreadgroup("GROUP", "g1", "alice", "COUNT", 2, "STREAMS", "stream", ">");
    await client.select(2);
    await client.set("db2:key", "in db 2");
    await client.select(0);
    await client.save();

    const rdb = readFileSync(join(server.dir, "dump.rdb"));
    const events = parseEvents(rdb, { captureRaw: true });
    const keys = events.filter((e): e is KeyEvent => e.kind === "key");
    expect(keys).toHaveLength(17);
    const types = new Set(keys.map((k) => k.meta.rdbType));
    // string, hash(4), zset2(5), intset(11), quicklist2(18), listpack hash/zset(16/17), set(2), stream v2(19)
    for (const t of [0, 2, 4, 5, 11, 16, 17, 18, 19]) expect(types, `type ${t}`).toContain(t);
    for (const { meta, raw } of keys) {
      await client.select(meta.db);
      const dumped = await client.dumpBuffer(meta.key);
      expect(dumpPayload(meta.rdbType, raw!, LOCAL_RDB_VERSION), String(meta.key)).toEqual(dumped);
    }
    await client.select(0);
    const ttl = keys.find((k) => k.meta.key.toString() === "str:ttl");
    expect(ttl?.meta.expireAtMs).toBe(4102444800000);
  });
});

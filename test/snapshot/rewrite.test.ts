/**
 * valueToCommands/chunkToCommands applied to a real redis-server rebuild the value exactly.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FatalError } from "../../core/errors.ts";
import {
  chunkToCommands,
  formatScore,
  streamMetaToCommands,
  valueToCommands,
} from "../../core/rdb/commands.ts";
import type { RdbValue, StreamMeta } from "../../core/rdb/types.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const B = (s: string): Buffer => Buffer.from(s);
const id = (ms: number, seq: number) => ({ ms: BigInt(ms), seq: BigInt(seq) });

async function apply(client: Redis, commands: Buffer[][]): Promise<void> {
  for (const [name, ...args] of commands) await client.callBuffer(name!.toString(), ...args);
}

describe("value rewrite on a real server", () => {
  let redis: RedisProc;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("formats scores so that every double round-trips", async () => {
    const scores = [
      0,
      -0,
      1,
      -1.5,
      0.1,
      1 / 3,
      Math.PI,
      1e-300,
      5e-324,
      1.7976931348623157e308,
      2 ** 53 + 2,
      -123456789.12345679,
      Infinity,
      -Infinity,
    ];
    expect(formatScore(Infinity)).toBe("inf");
    expect(formatScore(-Infinity)).toBe("-inf");
    expect(() => formatScore(Number.NaN)).toThrow(FatalError);
    const value: RdbValue = {
      type: "zset",
      value: scores.map((score, i) => ({ member: B(`m${i}`), score })),
    };
    await apply(client, valueToCommands(B("z:scores"), value));
    for (const [i, score] of scores.entries()) {
      const text = await client.zscore("z:scores", `m${i}`);
      // Redis replies with %.17g: parse it back and compare the doubles bit for bit.
      const back = text === "inf" ? Infinity : text === "-inf" ? -Infinity : Number(text);
      expect(
        Object.is(back, score) || (score === 0 && back === 0),
        `score ${score} came back as ${text}`,
      ).toBe(true);
    }
  });

  it("rebuilds strings, lists, sets, hashes in bounded commands, binary-safe", async () => {
    const bin = Buffer.from([0, 1, 2, 255, 13, 10, 32]);
    const list = Array.from({ length: 1000 }, (_, i) => B(`item-${i}-padding-padding`));
    const set = Array.from({ length: 300 }, (_, i) => B(`member-${i}`));
    const hash = Array.from({ length: 200 }, (_, i) => ({ field: B(`f${i}`), value: B(`v${i}`) }));
    const opts = { maxElements: 100, maxBytes: 1024 };
    const listCmds = valueToCommands(bin, { type: "list", value: list }, opts);
    // ~25 bytes an item: the byte bound (1024) cuts before the element bound (100).
    expect(listCmds.length).toBeGreaterThanOrEqual(24);
    for (const argv of listCmds) {
      expect(argv.length - 2).toBeLessThanOrEqual(100);
      expect(argv.slice(2).reduce((n, a) => n + a.length, 0)).toBeLessThanOrEqual(1024);
    }
    await apply(client, listCmds);
    await apply(client, valueToCommands(B("s"), { type: "set", value: set }, opts));
    await apply(client, valueToCommands(B("h"), { type: "hash", value: hash }, opts));
    await apply(client, valueToCommands(B("str"), { type: "string", value: bin }));
    expect((await client.lrangeBuffer(bin, 0, -1)).map(String)).toEqual(list.map(String));
    expect((await client.smembers("s")).sort()).toEqual(set.map(String).sort());
    expect(await client.hgetall("h")).toEqual(
      Object.fromEntries(hash.map((e) => [String(e.field), String(e.value)])),
    );
    expect(await client.getBuffer("str")).toEqual(bin);
  });

  it("appends string chunks and adds collection chunks after a DEL", async () => {
    await client.set("big", "old");
    await apply(client, [[B("DEL"), B("big")]]);
    await apply(client, chunkToCommands(B("big"), { type: "string", value: B("abc") }));
    await apply(client, chunkToCommands(B("big"), { type: "string", value: B("def") }));
    expect(await client.get("big")).toBe("abcdef");
  });

  it("writes hash field TTLs as HPEXPIREAT grouped by time, or refuses a target without them", () => {
    const value: RdbValue = {
      type: "hash",
      value: [
        { field: B("a"), value: B("1"), expireAtMs: 4102444800000 },
        { field: B("b"), value: B("2") },
        { field: B("c"), value: B("3"), expireAtMs: 4102444800000 },
      ],
    };
    const cmds = valueToCommands(B("h"), value).map((argv) => argv.map(String));
    expect(cmds).toEqual([
      ["HSET", "h", "a", "1", "b", "2", "c", "3"],
      ["HPEXPIREAT", "h", "4102444800000", "FIELDS", "2", "a", "c"],
    ]);
    expect(() => valueToCommands(B("h"), value, { hashFieldExpire: false })).toThrow(FatalError);
    // Fields whose TTL has passed are gone on the source: left out, so even an old target can take the rest.
    const later = valueToCommands(B("h"), value, { hashFieldExpire: false, now: () => 4102444800000 });
    expect(later.map((argv) => argv.map(String))).toEqual([["HSET", "h", "b", "2"]]);
    expect(() => valueToCommands(B("m"), { type: "module", moduleName: "ReJSON-RL", moduleId: 1n })).toThrow(
      /module ReJSON-RL/,
    );
  });

  it("rebuilds a stream with deletions, groups, PEL and consumers as XINFO STREAM FULL shows", async () => {
    const meta: StreamMeta = {
      length: 3,
      lastId: id(6, 1),
      firstId: id(1, 1),
      maxDeletedId: id(6, 1),
      entriesAdded: 6,
      groups: [
        {
          name: B("g1"),
          lastId: id(5, 1),
          entriesRead: 5,
          pending: [
            { id: id(1, 1), deliveryTime: 1700000000000, deliveryCount: 3 },
            { id: id(3, 1), deliveryTime: 1700000001000, deliveryCount: 1 },
            { id: id(5, 1), deliveryTime: 1700000002000, deliveryCount: 7 },
          ],
          consumers: [
            { name: B("alice"), seenTime: 1, pending: [id(1, 1), id(5, 1)] },
            { name: B("bob"), seenTime: 1, pending: [id(3, 1)] },
            { name: B("carol"), seenTime: 1, pending: [] },
          ],
        },
        { name: B("g2"), lastId: id(0, 0), entriesRead: 0, pending: [], consumers: [] },
      ],
    };
    const value: RdbValue = {
      type: "stream",
      value: [
        { id: id(1, 1), fields: [B("f"), B("v1")] },
        { id: id(3, 1), fields: [B("f"), B("v3"), B("g"), Buffer.from([0, 255])] },
        { id: id(5, 1), fields: [B("f"), B("v5")] },
      ],
      meta,
    };
    await apply(client, valueToCommands(B("x"), value));
    const info = flat(await client.call("XINFO", "STREAM", "x", "FULL"));
    expect(info["length"]).toBe(3);
    expect(info["last-generated-id"]).toBe("6-1");
    expect(info["max-deleted-entry-id"]).toBe("6-1");
    expect(info["entries-added"]).toBe(6);
    expect(info["recorded-first-entry-id"]).toBe("1-1");
    const entries = (await client.xrangeBuffer("x", "-", "+")).map(([i, f]) => [
      String(i),
      f.map((b) => b.toString("hex")),
    ]);
    expect(entries).toEqual(
      value.value.map((e) => [`${e.id.ms}-${e.id.seq}`, e.fields.map((b) => b.toString("hex"))]),
    );
    const groups = (info["groups"] as unknown[]).map(flat);
    expect(groups.map((g) => [g["name"], g["last-delivered-id"], g["entries-read"]])).toEqual([
      ["g1", "5-1", 5],
      ["g2", "0-0", 0],
    ]);
    const g1 = groups[0]!;
    expect(g1["pending"]).toEqual([
      ["1-1", "alice", 1700000000000, 3],
      ["3-1", "bob", 1700000001000, 1],
      ["5-1", "alice", 1700000002000, 7],
    ]);
    const consumers = (g1["consumers"] as unknown[]).map(flat);
    expect(consumers.map((c) => [c["name"], c["pel-count"]]).sort()).toEqual([
      ["alice", 2],
      ["bob", 1],
      ["carol", 0],
    ]);
  });

  it("creates an empty stream that keeps its last id, counters and groups", async () => {
    const meta: StreamMeta = {
      length: 0,
      lastId: id(9, 0),
      maxDeletedId: id(9, 0),
      entriesAdded: 4,
      groups: [{ name: B("g"), lastId: id(9, 0), entriesRead: 4, pending: [], consumers: [] }],
    };
    await apply(client, streamMetaToCommands(B("x:empty"), meta));
    const info = flat(await client.call("XINFO", "STREAM", "x:empty", "FULL"));
    expect([
      info["length"],
      info["last-generated-id"],
      info["entries-added"],
      info["max-deleted-entry-id"],
    ]).toEqual([0, "9-0", 4, "9-0"]);
    expect((info["groups"] as unknown[]).map(flat).map((g) => g["name"])).toEqual(["g"]);
  });

  it("omits 7.0-only stream arguments for an older target", () => {
    const meta: StreamMeta = {
      length: 1,
      lastId: id(2, 0),
      entriesAdded: 2,
      maxDeletedId: id(1, 0),
      groups: [
        {
          name: B("g"),
          lastId: id(2, 0),
          entriesRead: 2,
          pending: [],
          consumers: [{ name: B("c"), seenTime: 0, pending: [] }],
        },
      ],
    };
    const cmds = streamMetaToCommands(B("x"), meta, { streamMetadata: false, createConsumer: false }).map(
      (a) => a.map(String),
    );
    expect(cmds).toEqual([
      ["XSETID", "x", "2-0"],
      ["XGROUP", "CREATE", "x", "g", "2-0"],
    ]);
  });
});

/** RESP2 flat [k, v, k, v…] → object. */
function flat(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const arr = reply as unknown[];
  for (let i = 0; i + 1 < arr.length; i += 2) out[String(arr[i])] = arr[i + 1];
  return out;
}

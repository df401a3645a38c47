import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slotOf } from "../../core/cluster/slots.ts";
import { FatalError } from "../../core/errors.ts";
import { ClusterWriter } from "../../core/writer/cluster.ts";
import { type RedisClusterProc, startCluster } from "../helpers/redis.ts";
import { BatchMaker } from "./batches.ts";

describe("ClusterWriter on a 3-master target", () => {
  let cluster: RedisClusterProc;
  let writer: ClusterWriter;
  let check: Cluster;
  const warnings: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
    const seed = cluster.nodes[0]!;
    writer = await ClusterWriter.connect({
      endpoint: { host: seed.host, port: seed.port },
      onWarn: (m) => warnings.push(m),
    });
    check = cluster.client();
  });
  afterAll(async () => {
    await writer?.close();
    await cluster?.stop();
  });

  it("splits MSET/DEL/UNLINK/EXISTS whose keys span slots and applies each key", async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    expect(new Set(keys.map((k) => slotOf(Buffer.from(k)))).size).toBeGreaterThan(6);
    const make = new BatchMaker("job1", "s1");
    const result = await writer.apply(
      make.next([
        ["MSET", ...keys.flatMap((k) => [k, `v-${k}`])],
        ["DEL", "k0", "k1", "k2"],
        ["UNLINK", "k3", "k4"],
        ["EXISTS", "k5", "k6"],
        ["SET", Buffer.from([0xff, 0x00, 0x7b]), Buffer.from([1, 2, 3])],
      ]),
    );
    expect(result.applied).toBe(5);
    expect(result.skipped).toBe(0);
    const values = await check
      .mget(...keys.map((k) => k))
      .catch(async () => Promise.all(keys.map((k) => check.get(k))));
    expect(values).toEqual(keys.map((k, i) => (i < 5 ? null : `v-${k}`)));
    expect(await check.getBuffer(Buffer.from([0xff, 0x00, 0x7b]))).toEqual(Buffer.from([1, 2, 3]));
    expect(await writer.readMarker("job1", "s1")).toEqual({ replid: "a".repeat(40), offset: 1050, db: 0 });
  });

  it("applies replayed and overlapping batches exactly once (INCR, LPUSH)", async () => {
    const make = new BatchMaker("job2", "s1");
    const batches = Array.from({ length: 5 }, (_, n) =>
      make.next(
        Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0 ? ["INCR", `counter:${i % 7}`] : ["LPUSH", `list:${i % 5}`, `${n}-${i}`],
        ),
      ),
    );
    for (const batch of batches) await writer.apply(batch);
    // Redelivery of everything, and a batch overlapping two (as after a crash mid-way).
    for (const batch of batches) expect((await writer.apply(batch)).applied).toBe(0);
    const overlap = { ...batches[2]!, commands: [...batches[2]!.commands, ...batches[3]!.commands] };
    overlap.last = batches[3]!.last;
    expect((await writer.apply(overlap)).applied).toBe(0);
    // Per-slot filtering alone (shard marker behind): lower it and replay — slot markers still drop all.
    await check.set("__ferry:job2:s1", `${"a".repeat(40)}:1000:0`);
    for (const batch of batches) expect((await writer.apply(batch)).applied).toBe(0);

    const counts = new Map<string, number>();
    const lists = new Map<string, string[]>();
    for (const batch of batches)
      for (const c of batch.commands) {
        const key = c.argv[1]!.toString();
        if (c.argv[0]!.toString() === "INCR") counts.set(key, (counts.get(key) ?? 0) + 1);
        else lists.set(key, [c.argv[2]!.toString(), ...(lists.get(key) ?? [])]);
      }
    for (const [key, n] of counts) expect(Number(await check.get(key))).toBe(n);
    for (const [key, items] of lists) expect(await check.lrange(key, 0, -1)).toEqual(items);
  });

  it("a stale cached slot marker (another writer moved it) aborts via the guard and is re-read", async () => {
    const seed = cluster.nodes[1]!;
    const other = await ClusterWriter.connect({
      endpoint: { host: seed.host, port: seed.port },
      refreshIntervalMs: 0,
    });
    try {
      const make = new BatchMaker("job2b", "s1");
      const keys = ["g1", "g2", "g3", "g4"];
      const first = make.next(keys.map((k) => ["INCR", k]));
      const second = make.next(keys.map((k) => ["INCR", k]));
      await writer.apply(first); // caches the slot markers at `first`
      await other.apply(second); // moves them to `second` behind writer's back
      // …and pretend its shard marker write was lost, so only the slot markers can tell.
      await check.set("__ferry:job2b:s1", `${"a".repeat(40)}:${first.last}:0`);
      const retries = writer.stats.retries;
      expect((await writer.apply(second)).applied).toBe(0);
      expect(writer.stats.retries).toBeGreaterThan(retries);
      for (const k of keys) expect(await check.get(k)).toBe("2");
    } finally {
      await other.close();
    }
  });

  it("emulates cross-slot RENAME, COPY, LMOVE and splits SMOVE", async () => {
    const make = new BatchMaker("job3", "s1");
    const [a, b2] = ["ren:src", "ren:dst-x"];
    expect(slotOf(Buffer.from(a))).not.toBe(slotOf(Buffer.from(b2)));
    const batch = make.next([
      ["SET", a, "hello"],
      ["PEXPIRE", a, "600000"],
      ["RENAME", a, b2],
      ["RPUSH", "lsrc", "1", "2", "3"],
      ["LMOVE", "lsrc", "ldst-y", "LEFT", "RIGHT"],
      ["RPOPLPUSH", "lsrc", "ldst-y"],
      ["SADD", "ssrc", "m1", "m2"],
      ["SMOVE", "ssrc", "sdst-z", "m1"],
      ["HSET", "hsrc", "f", "v"],
      ["COPY", "hsrc", "hcopy-w"],
    ]);
    const result = await writer.apply(batch);
    expect(result.applied).toBe(10);
    expect(await check.get(a)).toBeNull();
    expect(await check.get(b2)).toBe("hello");
    expect(await check.pttl(b2)).toBeGreaterThan(500_000);
    expect(await check.lrange("lsrc", 0, -1)).toEqual(["2"]);
    expect(await check.lrange("ldst-y", 0, -1)).toEqual(["3", "1"]);
    expect(await check.smembers("ssrc")).toEqual(["m2"]);
    expect(await check.smembers("sdst-z")).toEqual(["m1"]);
    expect(await check.hgetall("hcopy-w")).toEqual({ f: "v" });
    expect(await check.hgetall("hsrc")).toEqual({ f: "v" });
    // Replay after the source key is gone: nothing moves twice.
    await check.set("__ferry:job3:s1", `${"a".repeat(40)}:1000:0`);
    expect((await writer.apply(batch)).applied).toBe(0);
    expect(await check.lrange("ldst-y", 0, -1)).toEqual(["3", "1"]);
  });

  it("refuses commands in a db other than 0 and cross-slot commands it cannot emulate", async () => {
    const make = new BatchMaker("job4", "s1");
    const err = await writer.apply(make.next([["SET", "x", "1"]], 3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect(String((err as FatalError).message)).toMatch(/source db 3.*only db 0/);
    expect((err as FatalError).advice).toMatch(/--db-map 3:0/);
    const cross = await writer
      .apply(make.next([["SUNIONSTORE", "dst-a", "src-b", "src-c"]]))
      .catch((e: unknown) => e);
    expect(cross).toBeInstanceOf(FatalError);
    expect(String((cross as FatalError).message)).toMatch(/SUNIONSTORE.*different slots.*"dst-a"/);
    const swap = await writer.apply(make.next([["SWAPDB", "0", "1"]])).catch((e: unknown) => e);
    expect(swap).toBeInstanceOf(FatalError);
  });

  it("FLUSHALL reaches every master and keeps the shard marker", async () => {
    const make = new BatchMaker("job5", "s1");
    const keys = ["f1", "f2", "f3", "f4", "f5", "f6"];
    await writer.apply(
      make.next([
        ...keys.map((k) => ["SET", k, "1"]),
        ["FLUSHALL"],
        ["SET", "after", "yes"],
        ["INCR", "cnt"],
      ]),
    );
    expect(warnings.some((w) => w.includes("FLUSHALL"))).toBe(true);
    for (const k of keys) expect(await check.exists(k)).toBe(0);
    expect(await check.get("after")).toBe("yes");
    expect(await writer.readMarker("job5", "s1")).toMatchObject({ offset: 1090 });
  });

  it("removeMarkers deletes slot and shard markers on every master", async () => {
    const make = new BatchMaker("job6", "s1");
    await writer.apply(make.next(Array.from({ length: 30 }, (_, i) => ["SET", `rm:${i}`, "x"])));
    const removed = await writer.removeMarkers("job6");
    expect(removed).toBeGreaterThan(10);
    expect(await writer.readMarker("job6", "s1")).toBeNull();
    expect(await writer.removeMarkers("job6")).toBe(0);
  });

  it("throughput on a 3-master target", async () => {
    const make = new BatchMaker("bench", "s1");
    const batches = Array.from({ length: 20 }, (_, n) =>
      make.next(Array.from({ length: 1000 }, (_, i) => ["SET", `bench:${n}:${i}`, "v".repeat(32)])),
    );
    const started = performance.now();
    for (const batch of batches) await writer.apply(batch);
    const ms = performance.now() - started;
    const opsPerSecond = Math.round((20 * 1000) / (ms / 1000));
    console.log(`cluster writer: 20 batches x 1000 SET in ${ms.toFixed(0)} ms = ${opsPerSecond} cmd/s`);
    expect(await check.get("bench:19:999")).toBe("v".repeat(32));
    expect(opsPerSecond).toBeGreaterThan(1000);

    // Keys concentrated in few slots (hash tags): one MULTI carries many commands.
    const tagged = Array.from({ length: 20 }, (_, n) =>
      make.next(Array.from({ length: 1000 }, (_, i) => ["INCR", `{t${i % 16}}:c${n % 4}`])),
    );
    const t0 = performance.now();
    for (const batch of tagged) await writer.apply(batch);
    const tms = performance.now() - t0;
    console.log(
      `cluster writer: 20 batches x 1000 INCR over 16 slots in ${tms.toFixed(0)} ms = ${Math.round(20_000 / (tms / 1000))} cmd/s`,
    );
    expect(Number(await check.get("{t0}:c0"))).toBe(5 * Math.ceil(1000 / 16));
  });
});

import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FatalError, RetryableError } from "../../core/errors.ts";
import type { Batch, Command } from "../../core/model.ts";
import { createStandaloneWriter, type StandaloneWriter } from "../../core/writer/standalone.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const REPLID = "a".repeat(40);
const buf = (...args: Array<string | number>): Buffer[] => args.map((a) => Buffer.from(String(a)));

/** Stream commands with offsets 10, 20, 30… starting after `from`. */
function cmds(from: number, argvs: Array<Array<string | number>>, db = 0, txn?: number): Command[] {
  return argvs.map((argv, i) => ({
    argv: buf(...argv),
    db,
    offset: from + (i + 1) * 10,
    ...(txn === undefined ? {} : { txn }),
  }));
}

function batch(job: string, commands: Command[], last?: number): Batch {
  return {
    job,
    shard: "standalone",
    replid: REPLID,
    kind: "stream",
    first: commands[0]?.offset ?? last ?? 0,
    last: last ?? commands[commands.length - 1]!.offset,
    commands,
    bytes: 100,
  };
}

describe("standalone writer: exactly-once apply", () => {
  let target: RedisProc;
  let client: Redis;
  let writer: StandaloneWriter;

  beforeAll(async () => {
    target = await startRedis();
    client = target.client();
    writer = await createStandaloneWriter({ target: { host: target.host, port: target.port } });
  });
  afterAll(async () => {
    await writer?.close();
    await target?.stop();
  });

  it("applies a batch once even when delivered twice, overlapping, or out of order", async () => {
    const job = "dup";
    const first = cmds(0, [
      ["INCR", "n"],
      ["LPUSH", "l", "a"],
      ["APPEND", "s", "x"],
    ]); // 10, 20, 30
    const second = cmds(30, [
      ["INCR", "n"],
      ["LPUSH", "l", "b"],
      ["APPEND", "s", "y"],
    ]); // 40, 50, 60
    const b1 = batch(job, first);
    const b2 = batch(job, second);
    const overlap = batch(job, [...first.slice(1), ...second.slice(0, 2)]); // 20..50

    const r1 = await writer.apply(b1);
    expect(r1).toMatchObject({ applied: 3, skipped: 0 });
    expect((await writer.apply(b1)).applied).toBe(0); // same batch again
    const r2 = await writer.apply(overlap); // 20, 30 applied; 40, 50 new
    expect(r2).toMatchObject({ applied: 2, skipped: 2 });
    const r3 = await writer.apply(b2); // only 60 is new
    expect(r3).toMatchObject({ applied: 1, skipped: 2 });
    expect((await writer.apply(b1)).applied).toBe(0); // an older batch after a newer one

    expect(await client.get("n")).toBe("2");
    expect(await client.lrange("l", 0, -1)).toEqual(["b", "a"]);
    expect(await client.get("s")).toBe("xy");
    expect(await client.get(`__ferry:${job}:standalone`)).toBe(`${REPLID}:60:0`);
    expect(await writer.readMarker(job, "standalone")).toEqual({ replid: REPLID, offset: 60, db: 0 });
  });

  it("re-reads the marker when a second writer moved it (fresh writer, stale cache)", async () => {
    const job = "two";
    const other = await createStandaloneWriter({ target: { host: target.host, port: target.port } });
    try {
      const b1 = batch(job, cmds(0, [["INCR", "c"]]));
      const b2 = batch(job, cmds(10, [["INCR", "c"]]));
      await writer.apply(b1); // writer caches marker = 10
      await other.apply(b1); // skipped: reads 10
      await other.apply(b2); // marker → 20, behind writer's back
      const again = await writer.apply(b2); // cached 10 is stale: guard aborts, re-read, skip
      expect(again.applied).toBe(0);
      expect(await client.get("c")).toBe("2");
    } finally {
      await other.close();
    }
  });

  it("two writers applying the same batches concurrently apply each command exactly once", async () => {
    const job = "race";
    const batches: Batch[] = [];
    for (let i = 0; i < 40; i++) {
      batches.push(
        batch(
          job,
          cmds(i * 50, [
            ["INCR", "r"],
            ["RPUSH", "rl", i],
            ["APPEND", "ra", "."],
          ]),
        ),
      );
    }
    const writers = await Promise.all(
      [0, 1].map(() =>
        createStandaloneWriter({ target: { host: target.host, port: target.port }, maxInFlight: 4 }),
      ),
    );
    try {
      const results = await Promise.all(writers.map((w) => Promise.all(batches.map((x) => w.apply(x)))));
      const applied = results.flat().reduce((sum, r) => sum + r.applied, 0);
      expect(applied).toBe(120);
      // Both writers really raced: some transactions lost to the other writer's marker and were re-planned.
      const aborts = writers.reduce((sum, w) => sum + w.stats.aborts, 0);
      const rereads = writers.reduce((sum, w) => sum + w.stats.markerReads, 0);
      expect(aborts).toBeGreaterThan(0);
      expect(rereads).toBeGreaterThan(2);
      expect(await client.get("r")).toBe("40");
      expect(await client.lrange("rl", 0, -1)).toEqual(batches.map((_, i) => String(i)));
      expect(await client.get("ra")).toBe(".".repeat(40));
      expect(await client.get(`__ferry:${job}:standalone`)).toBe(`${REPLID}:${39 * 50 + 30}:0`);
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  });

  it("refuses a batch whose predecessor is missing instead of skipping it later", async () => {
    const job = "gap";
    const b1 = { ...batch(job, cmds(0, [["INCR", "g"]]), 15), after: 0 }; // 10, trailing 15
    const b2 = { ...batch(job, cmds(15, [["INCR", "g"]]), 25), after: 15 }; // 25
    const b3 = { ...batch(job, cmds(25, [["INCR", "g"]]), 35), after: 25 }; // 35
    await writer.apply(b1);
    const lost = await writer.apply(b3).catch((e: unknown) => e); // b2 never arrived
    expect(lost).toBeInstanceOf(RetryableError);
    expect((lost as Error).message).toMatch(/continues from offset 25 .* marker is at .*:15:0/);
    expect((await writer.apply(b2)).applied).toBe(1);
    expect((await writer.apply(b3)).applied).toBe(1);
    expect(await client.get("g")).toBe("3");
  });

  it("keeps a source transaction atomic and switches dbs, recording the end db", async () => {
    const job = "txn";
    const commands = [
      ...cmds(0, [["SET", "t1", "a"]], 0),
      ...cmds(
        10,
        [
          ["SET", "t2", "b"],
          ["INCR", "t3"],
        ],
        3,
        7,
      ),
      ...cmds(30, [["SET", "t4", "d"]], 5),
    ];
    const b = { ...batch(job, commands, 100), endDb: 5 };
    const r = await writer.apply(b);
    expect(r.applied).toBe(4);
    expect(r.marker).toEqual({ replid: REPLID, offset: 100, db: 5 });
    expect(await client.get("t1")).toBe("a");
    await client.select(3);
    expect(await client.mget("t2", "t3")).toEqual(["b", "1"]);
    await client.select(5);
    expect(await client.get("t4")).toBe("d");
    await client.select(0);
    expect(await client.get(`__ferry:${job}:standalone`)).toBe(`${REPLID}:100:5`);

    // A tiny per-EXEC cap splits the batch, but never inside the source transaction.
    const small = await createStandaloneWriter({
      target: { host: target.host, port: target.port },
      maxCommandsPerExec: 1,
    });
    try {
      const job2 = "txn-split";
      const split = batch(job2, [
        ...cmds(0, [["INCR", "x1"]]),
        ...cmds(
          10,
          [
            ["INCR", "x2"],
            ["INCR", "x3"],
          ],
          0,
          1,
        ),
      ]);
      await client.set("x2", "not-a-number"); // INCR x2 fails inside EXEC, x3 still runs (Redis semantics)
      await expect(small.apply(split)).rejects.toThrow(/x2/);
      expect(await client.mget("x1", "x3")).toEqual(["1", "1"]);
      expect(await client.get(`__ferry:${job2}:standalone`)).toBe(`${REPLID}:30:0`);
    } finally {
      await small.close();
    }
  });

  it("offset-only batches advance the marker; snapshot markers carry seq until finishSnapshot", async () => {
    const job = "snap";
    const snap: Batch = {
      job,
      shard: "standalone",
      replid: REPLID,
      kind: "snapshot",
      first: 1,
      last: 2,
      snapshotOffset: 500,
      commands: [
        { argv: buf("SET", "k1", "v"), db: 0, offset: 500, seq: 1 },
        { argv: buf("RPUSH", "k2", "v"), db: 0, offset: 500, seq: 2 },
      ],
      bytes: 50,
    };
    expect((await writer.apply(snap)).applied).toBe(2);
    expect(await client.get(`__ferry:${job}:standalone`)).toBe(`${REPLID}:500:0:s2`);
    expect((await writer.apply(snap)).applied).toBe(0);
    const marker = await writer.finishSnapshot(job, "standalone", REPLID, 500, 0);
    expect(marker).toEqual({ replid: REPLID, offset: 500, db: 0 });
    expect((await writer.apply(snap)).applied).toBe(0); // a redelivered snapshot batch after the switch
    expect(await client.llen("k2")).toBe(1);
    await writer.apply(batch(job, [], 520));
    expect(await client.get(`__ferry:${job}:standalone`)).toBe(`${REPLID}:520:0`);
    expect(await writer.removeMarkers(job)).toBe(1);
    expect(await writer.readMarker(job, "standalone")).toBeNull();
  });

  it("records target emptiness once and flushes only data keys", async () => {
    const fresh = await startRedis();
    const w = await createStandaloneWriter({ target: { host: fresh.host, port: fresh.port } });
    try {
      expect(await w.emptiness.wasEmpty("e")).toBeNull();
      expect(await w.emptiness.record("e", [0, 1])).toBe(true);
      await w.apply(batch("e", cmds(0, [["SET", "a", "1"]])));
      const c = fresh.client();
      await c.select(1);
      await c.set("b", "2");
      expect(await w.emptiness.record("e", [0, 1])).toBe(true); // the first answer sticks
      expect(await w.emptiness.record("other", [0, 1])).toBe(false);
      await w.emptiness.flush([0, 1]);
      expect(await c.dbsize()).toBe(0);
      await c.select(0);
      expect((await c.keys("*")).sort()).toEqual([
        "__ferry:e:@target-empty",
        "__ferry:e:standalone",
        "__ferry:other:@target-empty",
      ]);
    } finally {
      await w.close();
      await fresh.stop();
    }
  });
});

describe("standalone writer: target errors", () => {
  it("OOM → FatalError with advice, nothing applied", async () => {
    const target = await startRedis({ config: { maxmemory: "1mb", "maxmemory-policy": "noeviction" } });
    const w = await createStandaloneWriter({ target: { host: target.host, port: target.port } });
    try {
      const big = "x".repeat(64 * 1024);
      const commands = cmds(
        0,
        Array.from({ length: 40 }, (_, i) => ["SET", `big${i}`, big]),
      );
      let error: unknown;
      for (let i = 0; i < 40 && !error; i++) {
        await w.apply(batch("oom", [{ ...commands[i]! }])).catch((e: unknown) => {
          error = e;
        });
      }
      expect(error).toBeInstanceOf(FatalError);
      expect((error as FatalError).message).toMatch(
        /out of memory.*raise maxmemory.*nothing of this batch was applied/,
      );
      expect((error as FatalError).advice).toMatch(/maxmemory/);
    } finally {
      await w.close();
      await target.stop();
    }
  });

  it("RESTORE errors name the key: bad payload → rewrite path, BUSYKEY → existing key", async () => {
    const target = await startRedis();
    const w = await createStandaloneWriter({ target: { host: target.host, port: target.port } });
    try {
      const bad = await w
        .apply(batch("rs", cmds(0, [["RESTORE", "user:1", 0, "not-a-dump-payload"]])))
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(FatalError);
      expect((bad as FatalError).message).toMatch(/RESTORE payload of key "user:1"/);
      expect((bad as FatalError).advice).toMatch(/rewrite/);

      const client = target.client();
      await client.set("user:2", "x");
      const dump = await client.dumpBuffer("user:2");
      const busy = await w
        .apply({ ...batch("rs", [{ argv: [...buf("RESTORE", "user:2", 0), dump], db: 0, offset: 20 }]) })
        .catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(FatalError);
      expect((busy as FatalError).message).toMatch(/key "user:2" already exists/);
    } finally {
      await w.close();
      await target.stop();
    }
  });

  it("READONLY replica → FatalError pointing at the master", async () => {
    const master = await startRedis();
    const replica = await startRedis({ replicaOf: master });
    const w = await createStandaloneWriter({ target: { host: replica.host, port: replica.port } });
    try {
      const err = await w.apply(batch("ro", cmds(0, [["SET", "a", "1"]]))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FatalError);
      expect((err as Error).message).toMatch(/read-only replica: point --target at its master/);
    } finally {
      await w.close();
      await replica.stop();
      await master.stop();
    }
  });
});

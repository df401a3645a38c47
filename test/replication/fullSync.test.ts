import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplicaSession } from "../../core/replication/replicaSession.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";
import { RecordingSink } from "./recordingSink.ts";

/** master_repl_offset and the ack offset the master lists for our replica (INFO replication). */
async function masterView(master: RedisProc, listeningPort: number) {
  const info = await master.client().info("replication");
  const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
  const slave = new RegExp(`slave\\d+:ip=[^,]+,port=${listeningPort},state=(\\w+),offset=(\\d+)`).exec(info);
  return { offset, state: slave?.[1], ackOffset: slave ? Number(slave[2]) : undefined };
}

describe.each([
  { mode: "disk-based", diskless: false },
  { mode: "diskless", diskless: true },
])("ReplicaSession full resync ($mode)", ({ diskless }) => {
  let master: RedisProc;
  const sink = new RecordingSink();
  let session: ReplicaSession;
  let run: Promise<void>;
  const listeningPort = diskless ? 7001 : 7002;

  beforeAll(async () => {
    // A 1 s master PING period so the idle check below also proves PINGs are counted.
    master = await startRedis({ diskless, config: { "repl-ping-replica-period": "1" } });
    const seed = master.client();
    for (let i = 0; i < 200; i++) await seed.set(`seed:${i}`, `value-${i}`);
    session = new ReplicaSession(
      { endpoint: { host: master.host, port: master.port }, listeningPort, ackIntervalMs: 100 },
      sink,
    );
    run = session.run();
  });

  afterAll(async () => {
    await session?.close();
    await master?.stop();
  });

  it("receives the RDB payload (header stripped, mark stripped) and announces the resync", async () => {
    await waitFor(() => sink.rdbDone, 15_000);
    const rdb = sink.rdbBytes;
    expect(rdb.subarray(0, 5).toString()).toBe("REDIS");
    // The RDB ends with the EOF opcode (0xff) and an 8-byte CRC: no mark or CRLF left on it.
    expect(rdb[rdb.length - 9]).toBe(0xff);
    expect(rdb.includes(Buffer.from("seed:199"))).toBe(true);
    expect(sink.full?.replid).toMatch(/^[0-9a-f]{40}$/);
    expect(sink.full?.rdbSize).toBe(diskless ? null : rdb.length);
    expect(session.rdbBytes).toBe(rdb.length);
    expect(session.replid).toBe(sink.full?.replid);
  });

  it("streams commands with their db and transactions whole, offsets matching the master", async () => {
    const c0 = master.client();
    await c0.set("a", "1");
    await c0.incr("n");
    const c3 = master.client();
    await c3.select(3);
    await c3.set("in-db-3", "x");
    await c0.multi().set("t1", "1").incr("t2").exec();
    await c0.set("after", "z");
    await waitFor(() => sink.seen.includes("0:set after z"), 10_000);

    const streamed = sink.commandList.filter((c) => c.argv[0]?.toString().toLowerCase() !== "ping");
    expect(sink.seen).toEqual([
      "0:set a 1",
      "0:incr n",
      "3:set in-db-3 x",
      "0:set t1 1",
      "0:incr t2",
      "0:set after z",
    ]);
    const [t1, t2] = streamed.slice(3, 5);
    expect(t1?.txn).toBeDefined();
    expect(t2?.txn).toBe(t1?.txn);
    expect(t1?.offset).toBe(t2?.offset);
    expect(streamed[0]?.txn).toBeUndefined();
    // Offsets strictly increase outside the transaction and start after the FULLRESYNC offset.
    const offsets = streamed.map((c) => c.offset);
    expect(offsets[0]).toBeGreaterThan(sink.full!.offset);
    expect(offsets[5]).toBeGreaterThan(offsets[4]!);
    expect(offsets[3]).toBeGreaterThan(offsets[2]!);
  });

  it("after idle, received and acked offsets equal master_repl_offset (PINGs counted)", async () => {
    await new Promise((r) => setTimeout(r, 1500)); // at least one master PING
    await waitFor(async () => {
      const view = await masterView(master, listeningPort);
      return (
        view.state === "online" &&
        session.receivedOffset === view.offset &&
        view.ackOffset === view.offset &&
        session.ackOffset === view.offset
      );
    }, 10_000);
    const last = sink.batches.at(-1);
    expect(last?.endOffset).toBe(session.receivedOffset);
    expect(session.phase).toBe("streaming");
  });

  it("answers REPLCONF GETACK: WAIT 1 returns 1", async () => {
    const client = master.client();
    await client.set("wait-me", "1");
    expect(await client.wait(1, 2000)).toBe(1);
  });

  it("close() ends run() cleanly", async () => {
    await session.close();
    await expect(run).resolves.toBeUndefined();
    expect(session.phase).toBe("closed");
  });
});

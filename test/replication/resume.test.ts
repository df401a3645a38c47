import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplicaSession } from "../../core/replication/replicaSession.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";
import { RecordingSink } from "./recordingSink.ts";

async function masterOffsets(master: RedisProc) {
  const info = await master.client().info("replication");
  return {
    offset: Number(/master_repl_offset:(\d+)/.exec(info)?.[1]),
    ackOffset: Number(/slave\d+:ip=[^,]+,port=\d+,state=\w+,offset=(\d+)/.exec(info)?.[1]),
  };
}

describe("ReplicaSession resume (PSYNC <replid> <offset+1>)", () => {
  let master: RedisProc;

  beforeAll(async () => {
    master = await startRedis({ diskless: true });
  });
  afterAll(async () => {
    await master?.stop();
  });

  it("continues from the recorded offset and db: only later commands arrive, SELECT not re-sent", async () => {
    const endpoint = { host: master.host, port: master.port };
    const first = new RecordingSink();
    const s1 = new ReplicaSession({ endpoint, ackIntervalMs: 100 }, first);
    const run1 = s1.run();
    await waitFor(() => first.rdbDone);
    const c3 = master.client();
    await c3.select(3);
    await c3.set("before", "1");
    await waitFor(() => first.seen.includes("3:set before 1"));
    const resume = { replid: s1.replid!, offset: s1.receivedOffset, db: s1.db };
    expect(resume.db).toBe(3);
    await s1.close();
    await run1;

    // Written while no replica is connected; the stream stays in db 3, so no new SELECT is emitted.
    await c3.set("missed-1", "a");
    await c3.incr("missed-2");

    const second = new RecordingSink();
    const s2 = new ReplicaSession({ endpoint, resume, ackIntervalMs: 100 }, second);
    // Ack only what the "pipeline" applied: the resume point, while commands keep arriving.
    s2.setAppliedOffset(resume.offset);
    const run2 = s2.run();
    await waitFor(() => second.seen.includes("3:incr missed-2"));
    await c3.set("after", "b");
    await waitFor(() => second.seen.includes("3:set after b"));

    expect(second.cont).toEqual({ replid: resume.replid, offset: resume.offset, replidChanged: false });
    expect(second.full).toBeUndefined();
    expect(second.rdb).toHaveLength(0);
    expect(second.seen).toEqual(["3:set missed-1 a", "3:incr missed-2", "3:set after b"]);
    expect(second.commandList[0]!.offset).toBeGreaterThan(resume.offset);

    await waitFor(async () => s2.receivedOffset === (await masterOffsets(master)).offset);
    // The master holds our ACK at the applied offset, not at what was merely received…
    await new Promise((r) => setTimeout(r, 300));
    expect((await masterOffsets(master)).ackOffset).toBe(resume.offset);
    // …and follows once the pipeline reports more applied.
    s2.setAppliedOffset(s2.receivedOffset);
    await waitFor(async () => (await masterOffsets(master)).ackOffset === s2.receivedOffset, 5000);

    await s2.close();
    await expect(run2).resolves.toBeUndefined();
  });

  it("gets a full resync when the replid is unknown to the master", async () => {
    const sink = new RecordingSink();
    const session = new ReplicaSession(
      {
        endpoint: { host: master.host, port: master.port },
        resume: { replid: "f".repeat(40), offset: 12345, db: 5 },
      },
      sink,
    );
    const run = session.run();
    try {
      await waitFor(() => sink.rdbDone);
      expect(sink.cont).toBeUndefined();
      expect(sink.full?.replid).not.toBe("f".repeat(40));
      expect(session.db).toBe(0);
    } finally {
      await session.close();
      await run;
    }
  });
});

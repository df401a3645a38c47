import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReplicaSession } from "../../core/replication/replicaSession.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";
import { RecordingSink } from "./recordingSink.ts";

describe("ReplicaSession backpressure", () => {
  let master: RedisProc;
  beforeAll(async () => {
    master = await startRedis({ diskless: true });
  });
  afterAll(async () => {
    await master?.stop();
  });

  it("a slow sink pauses the socket: the master holds the backlog, the session's buffer stays small", async () => {
    const sink = new RecordingSink();
    const session = new ReplicaSession({ endpoint: { host: master.host, port: master.port } }, sink);
    const run = session.run();
    try {
      await waitFor(() => sink.rdbDone);
      sink.delayMs = 25;
      const value = Buffer.alloc(100 * 1024, 0x78);
      const writes = 100; // ~10 MB of stream
      const client = master.client();
      const pipeline = client.pipeline();
      for (let i = 0; i < writes; i++) pipeline.set(`big:${i}`, value);
      await pipeline.exec();

      let maxBuffered = 0;
      let maxMasterBuffer = 0;
      const sample = async () => {
        maxBuffered = Math.max(maxBuffered, session.bufferedBytes);
        const list = String(await client.call("CLIENT", "LIST", "TYPE", "replica"));
        const totMem = Number(/tot-mem=(\d+)/.exec(list)?.[1] ?? 0);
        const omem = Number(/omem=(\d+)/.exec(list)?.[1] ?? 0);
        maxMasterBuffer = Math.max(maxMasterBuffer, totMem, omem);
      };
      for (let i = 0; i < 10; i++) {
        await sample();
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor(
        async () => {
          await sample();
          return sink.commandList.length === writes;
        },
        50_000,
        20,
      );
      console.log(
        `backpressure: max session buffer ${maxBuffered} B, max master replica buffer ${maxMasterBuffer} B, ` +
          `${sink.batches.length} sink calls`,
      );
      // The master kept the unread stream (megabytes), we kept at most about one socket read.
      expect(maxMasterBuffer).toBeGreaterThan(4 * 1024 * 1024);
      expect(maxBuffered).toBeLessThan(1024 * 1024);
      expect(sink.commandList.map((c) => c.argv[1]?.toString())).toEqual(
        Array.from({ length: writes }, (_, i) => `big:${i}`),
      );
    } finally {
      await session.close();
      await run;
    }
  });
});

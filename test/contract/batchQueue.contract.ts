/**
 * The BatchQueue contract (core/ports.ts): per shard in order and one delivery at a time, shards in
 * parallel, ack removes, nack redelivers before anything later of the same shard, binary-safe.
 */
import { describe, expect, it } from "vitest";
import type { Batch } from "../../core/model.ts";
import type { BatchQueue, ReceivedBatch } from "../../core/ports.ts";

export interface BatchQueueContractOptions {
  /** How long `receive` may wait when a batch is expected (SQS long-polls in whole seconds). */
  waitMs: number;
}

let seq = 0;
export function makeBatch(job: string, shard: string, first: number, commands = 2): Batch {
  const cmds = Array.from({ length: commands }, (_, i) => ({
    argv: [Buffer.from("INCRBY"), Buffer.from(`key:${shard}`), Buffer.from(String(first + i))],
    db: 0,
    offset: first + i * 10,
  }));
  return {
    job,
    shard,
    replid: "0123456789abcdef0123456789abcdef01234567",
    kind: "stream",
    first,
    last: cmds.at(-1)!.offset,
    commands: cmds,
    bytes: 64 * commands,
    endDb: 0,
  };
}

export function runBatchQueueContract(
  name: string,
  makeQueue: () => Promise<BatchQueue> | BatchQueue,
  options: BatchQueueContractOptions,
): void {
  const job = (): string => `job-${process.pid}-${++seq}`;

  /** Receive until `count` batches arrived (SQS may return fewer per call than available). */
  async function receiveN(queue: BatchQueue, count: number, max = 10): Promise<ReceivedBatch[]> {
    const out: ReceivedBatch[] = [];
    const deadline = Date.now() + options.waitMs * 4 + 2_000;
    while (out.length < count && Date.now() < deadline) {
      out.push(...(await queue.receive(max, options.waitMs)));
    }
    return out;
  }

  describe(`BatchQueue contract: ${name}`, () => {
    it("delivers what was sent, byte for byte, and ack removes it", async () => {
      const queue = await makeQueue();
      const j = job();
      const batch = makeBatch(j, "s1", 100);
      batch.commands[0]!.argv.push(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      await queue.send(batch);
      const [got, extra] = await receiveN(queue, 1);
      expect(extra).toBeUndefined();
      expect(got!.batch.commands).toEqual(batch.commands);
      expect({ ...got!.batch, bytes: 0 }).toEqual({ ...batch, bytes: 0 });
      await got!.ack();
      expect(await queue.receive(10, 0)).toEqual([]);
      await queue.close();
    });

    it("keeps a shard's batches in order", async () => {
      const queue = await makeQueue();
      const j = job();
      const firsts = [100, 200, 300, 400, 500, 600];
      for (const first of firsts) await queue.send(makeBatch(j, "s1", first));
      const seen: number[] = [];
      while (seen.length < firsts.length) {
        const got = await receiveN(queue, 1, 10);
        expect(got.length).toBeGreaterThan(0);
        for (const r of got) {
          seen.push(r.batch.first);
          await r.ack();
        }
      }
      expect(seen).toEqual(firsts);
      await queue.close();
    });

    it("withholds a shard's next batch while an earlier one is unacked, other shards flow", async () => {
      const queue = await makeQueue();
      const j = job();
      await queue.send(makeBatch(j, "a", 100));
      await queue.send(makeBatch(j, "a", 200));
      await queue.send(makeBatch(j, "b", 100));
      const [firstA] = await receiveUntilShard(queue, "a");
      expect(firstA!.batch.first).toBe(100);
      // Only b may come now; a's second batch waits for a's first (asking for up to 10).
      const during = await receiveN(queue, 1, 10);
      expect(during.map((r) => `${r.batch.shard}:${r.batch.first}`)).toEqual(["b:100"]);
      expect(await queue.receive(10, 0)).toEqual([]);
      await firstA!.ack();
      const after = await receiveN(queue, 1);
      expect(after.map((r) => `${r.batch.shard}:${r.batch.first}`)).toEqual(["a:200"]);
      for (const r of [...during, ...after]) await r.ack();
      await queue.close();
    });

    it("nack redelivers the batch before later batches of its shard", async () => {
      const queue = await makeQueue();
      const j = job();
      await queue.send(makeBatch(j, "s1", 100));
      await queue.send(makeBatch(j, "s1", 200));
      const [first] = await receiveN(queue, 1, 1);
      expect(first!.batch.first).toBe(100);
      await first!.nack();
      const [again] = await receiveN(queue, 1, 1);
      expect(again!.batch.first).toBe(100);
      await again!.ack();
      const [next] = await receiveN(queue, 1, 1);
      expect(next!.batch.first).toBe(200);
      await next!.ack();
      await queue.close();
    });
  });

  /** Receive one at a time until a batch of `shard` arrives; others are nacked back. */
  async function receiveUntilShard(queue: BatchQueue, shard: string): Promise<ReceivedBatch[]> {
    for (let i = 0; i < 10; i++) {
      const got = await receiveN(queue, 1, 1);
      const mine = got.filter((r) => r.batch.shard === shard);
      for (const r of got) if (r.batch.shard !== shard) await r.nack();
      if (mine.length > 0) return mine;
    }
    throw new Error(`no batch of shard ${shard} arrived`);
  }
}

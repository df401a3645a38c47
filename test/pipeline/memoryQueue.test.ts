import { describe, expect, it } from "vitest";
import { MemoryBatchQueue } from "../../core/adapters/memory/batchQueue.ts";
import type { Batch } from "../../core/model.ts";
import { sleep } from "../helpers/redis.ts";

const batch = (shard: string, first: number, bytes = 100): Batch => ({
  job: "j",
  shard,
  replid: "r",
  kind: "stream",
  first,
  last: first,
  commands: [],
  bytes,
});

describe("MemoryBatchQueue", () => {
  it("blocks send while full and stays within its byte bound", async () => {
    const queue = new MemoryBatchQueue({ maxBytes: 300 });
    for (let i = 1; i <= 3; i++) await queue.send(batch("a", i));
    let sent = false;
    const fourth = queue.send(batch("a", 4)).then(() => {
      sent = true;
    });
    await sleep(20);
    expect(sent).toBe(false);
    expect(queue.bytes).toBe(300);
    const [first] = await queue.receive(1, 0);
    expect(first!.batch.first).toBe(1);
    await sleep(10);
    expect(sent).toBe(false); // delivered but unacked still counts
    await first!.ack();
    await fourth;
    expect(queue.bytes).toBe(300);
    await queue.close();
  });

  it("admits a batch larger than the bound when the queue is empty", async () => {
    const queue = new MemoryBatchQueue({ maxBytes: 100 });
    await queue.send(batch("a", 1, 1000));
    expect(queue.bytes).toBe(1000);
    await queue.close();
  });

  it("delivers in order per shard, never past an unacked batch, parallel across shards", async () => {
    const queue = new MemoryBatchQueue();
    for (let i = 1; i <= 3; i++) {
      await queue.send(batch("a", i));
      await queue.send(batch("b", i));
    }
    const got = await queue.receive(10, 0);
    expect(got.map((r) => `${r.batch.shard}${r.batch.first}`).sort()).toEqual([
      "a1",
      "a2",
      "a3",
      "b1",
      "b2",
      "b3",
    ]);
    await queue.send(batch("a", 4));
    expect(await queue.receive(10, 0)).toEqual([]); // a1..a3 unacked: a4 waits
    for (const r of got.filter((r) => r.batch.shard === "a")) await r.ack();
    const next = await queue.receive(10, 0);
    expect(next.map((r) => `${r.batch.shard}${r.batch.first}`)).toEqual(["a4"]);
    await queue.close();
  });

  it("redelivers a nacked batch first, with the later batches of its delivery", async () => {
    const queue = new MemoryBatchQueue();
    for (let i = 1; i <= 4; i++) await queue.send(batch("a", i));
    const got = await queue.receive(3, 0);
    expect(got.map((r) => r.batch.first)).toEqual([1, 2, 3]);
    await got[0]!.ack();
    await got[1]!.nack(); // 2 failed: 3 must not be applied before it
    await got[2]!.ack(); // stale handle: ignored
    const again = await queue.receive(10, 0);
    expect(again.map((r) => r.batch.first)).toEqual([2, 3, 4]);
    for (const r of again) await r.ack();
    expect(queue.bytes).toBe(0);
    expect(queue.depth).toBe(0);
    await queue.close();
  });

  it("wakes a waiting receiver on send and returns empty after waitMs", async () => {
    const queue = new MemoryBatchQueue();
    const started = Date.now();
    expect(await queue.receive(1, 50)).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    const pending = queue.receive(1, 5000);
    await sleep(10);
    await queue.send(batch("a", 1));
    expect((await pending).map((r) => r.batch.first)).toEqual([1]);
    await queue.close();
    await expect(queue.send(batch("a", 2))).rejects.toThrow(/closed/);
  });
});

import { describe, expect, it } from "vitest";
import type { Batch, Command } from "../../core/model.ts";
import { Batcher, commandBytes } from "../../core/pipeline/batcher.ts";
import { sleep } from "../helpers/redis.ts";

const REPLID = "c".repeat(40);
const arg = (s: string | number): Buffer => Buffer.from(String(s));
const cmd = (offset: number, extra: Partial<Command> = {}): Command => ({
  argv: [arg("INCR"), arg(`k${offset}`)],
  db: 0,
  offset,
  ...extra,
});

function collect(): { sent: Batch[]; queue: { send(b: Batch): Promise<void> } } {
  const sent: Batch[] = [];
  return { sent, queue: { send: async (b) => void sent.push(b) } };
}

describe("Batcher", () => {
  it("seals by count, keeps offsets, and carries the trailing offset and db", async () => {
    const { sent, queue } = collect();
    const batcher = new Batcher({ job: "j", shard: "s", queue, maxCommands: 3, maxAgeMs: 1000 });
    await batcher.beginStream(REPLID);
    await batcher.stream([cmd(10), cmd(20), cmd(30), cmd(40)], 45, 2);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: "stream", replid: REPLID, first: 10, last: 30, endDb: 0 });
    expect(sent[0]!.commands).toHaveLength(3);
    await batcher.flush();
    expect(sent[1]).toMatchObject({ first: 40, last: 45, endDb: 2 });
    expect(sent[1]!.bytes).toBe(commandBytes(cmd(40).argv));
    await batcher.close();
  });

  it("seals by bytes and never splits a source transaction", async () => {
    const { sent, queue } = collect();
    const one = commandBytes(cmd(1).argv);
    const batcher = new Batcher({
      job: "j",
      shard: "s",
      queue,
      maxBytes: one * 2,
      maxCommands: 100,
      maxAgeMs: 1000,
    });
    await batcher.beginStream(REPLID);
    // One command, then a 3-command txn bigger than the byte cap: it goes whole, in its own batch.
    await batcher.stream(
      [cmd(10), cmd(40, { txn: 1 }), cmd(40, { txn: 1 }), cmd(40, { txn: 1 }), cmd(50)],
      50,
      0,
    );
    await batcher.flush();
    expect(sent.map((b) => b.commands.length)).toEqual([1, 3, 1]);
    expect(sent.map((b) => [b.first, b.last])).toEqual([
      [10, 10],
      [40, 40],
      [50, 50],
    ]);
    expect(commandBytes([arg("SET"), arg("k"), arg("v")])).toBe(
      Buffer.from("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n").length,
    );
    await batcher.close();
  });

  it("seals by age after the first command", async () => {
    const { sent, queue } = collect();
    const batcher = new Batcher({ job: "j", shard: "s", queue, maxAgeMs: 20 });
    await batcher.beginStream(REPLID);
    await batcher.stream([cmd(10)], 10, 0);
    await sleep(5);
    await batcher.stream([cmd(20)], 20, 0);
    expect(sent).toHaveLength(0);
    await sleep(60);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.commands).toHaveLength(2);
    await batcher.close();
  });

  it("sends offset-only progress as empty batches, at most one per interval", async () => {
    const { sent, queue } = collect();
    const batcher = new Batcher({ job: "j", shard: "s", queue, maxAgeMs: 1, offsetOnlyIntervalMs: 100 });
    await batcher.beginStream(REPLID);
    const started = Date.now();
    for (let offset = 100; Date.now() - started < 250; offset += 14) {
      await batcher.stream([], offset, 0); // PINGs and GETACKs only
      await sleep(5);
    }
    await sleep(120);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeLessThanOrEqual(4);
    for (const b of sent) expect(b.commands).toEqual([]);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.last).toBeGreaterThan(sent[i - 1]!.last);
    await batcher.stream([], sent[sent.length - 1]!.last, 0); // no progress → nothing new
    await sleep(120);
    const count = sent.length;
    await batcher.close();
    expect(sent).toHaveLength(count);
  });

  it("numbers snapshot batches by seq and records the FULLRESYNC offset", async () => {
    const { sent, queue } = collect();
    const batcher = new Batcher({ job: "j", shard: "s", queue, maxCommands: 2, maxAgeMs: 1000 });
    await batcher.beginSnapshot(REPLID, 777);
    await batcher.snapshot([1, 2, 3].map((seq) => cmd(777, { seq })));
    await batcher.endSnapshot();
    await batcher.beginStream(REPLID);
    await batcher.stream([cmd(800)], 800, 0);
    await batcher.close();
    expect(sent.map((b) => [b.kind, b.first, b.last, b.snapshotOffset])).toEqual([
      ["snapshot", 1, 2, 777],
      ["snapshot", 3, 3, 777],
      ["stream", 800, 800, undefined],
    ]);
  });

  it("propagates a slow queue as backpressure and a failed send as an error", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const sent: Batch[] = [];
    const queue = {
      send: async (b: Batch) => {
        await gate;
        sent.push(b);
      },
    };
    const batcher = new Batcher({ job: "j", shard: "s", queue, maxCommands: 1, maxPendingSends: 1 });
    await batcher.beginStream(REPLID);
    await batcher.stream([cmd(10)], 10, 0); // one pending send is allowed
    let done = false;
    const blocked = batcher.stream([cmd(20)], 20, 0).then(() => {
      done = true;
    });
    await sleep(30);
    expect(done).toBe(false);
    release();
    await blocked;
    expect(sent.map((b) => b.first)).toEqual([10, 20]);

    const failing = new Batcher({
      job: "j",
      shard: "s",
      queue: { send: async () => Promise.reject(new Error("queue down")) },
      maxCommands: 1,
    });
    await failing.beginStream(REPLID);
    await failing.stream([cmd(10)], 10, 0).catch(() => {});
    await expect(failing.flush()).rejects.toThrow("queue down");
    await expect(failing.stream([cmd(20)], 20, 0)).rejects.toThrow("queue down");
  });
});

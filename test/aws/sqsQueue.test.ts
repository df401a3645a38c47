import { randomBytes } from "node:crypto";
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqsBatchQueue } from "../../core/adapters/sqs/batchQueue.ts";
import { messageDeduplicationId, messageGroupId } from "../../core/adapters/sqs/ids.ts";
import type { Batch } from "../../core/model.ts";
import type { ReceivedBatch } from "../../core/ports.ts";
import { makeBatch } from "../contract/batchQueue.contract.ts";
import { createFifoQueue, type Emulator, startSqs } from "../helpers/emulators.ts";

let sqs: Emulator<SQSClient>;
beforeAll(async () => {
  sqs = await startSqs();
});
afterAll(async () => {
  await sqs?.stop();
});

async function drain(queue: SqsBatchQueue): Promise<ReceivedBatch[]> {
  const out: ReceivedBatch[] = [];
  for (let empty = 0; empty < 2; ) {
    const got = await queue.receive(10, 0);
    if (got.length === 0) empty++;
    for (const r of got) {
      out.push(r);
      await r.ack();
    }
  }
  return out;
}

describe("SqsBatchQueue on a FIFO queue", () => {
  it("a batch sent twice (replicator retry) is stored once: dedup id from job/shard/kind/first-last", async () => {
    const queue = new SqsBatchQueue({ client: sqs.client, queueUrl: await createFifoQueue(sqs.client) });
    const batch = makeBatch("job-dedup", "s1", 1000);
    await queue.send(batch);
    await queue.send(batch);
    // Re-batched after a restart: same first, more commands → a new message, not a duplicate.
    await queue.send(makeBatch("job-dedup", "s1", 1000, 3));
    const got = await drain(queue);
    expect(got.map((r) => r.batch.commands.length)).toEqual([2, 3]);
  });

  it("a second snapshot at the same offset (idle source, re-snapshot within 5 min) is not deduplicated away", async () => {
    const queue = new SqsBatchQueue({ client: sqs.client, queueUrl: await createFifoQueue(sqs.client) });
    const snapshot = (first: number): Batch => ({
      ...makeBatch("job-resnap", "s1", 0, 1),
      kind: "snapshot",
      first,
      last: first,
      snapshotOffset: 777,
      commands: [
        {
          argv: [Buffer.from("SET"), Buffer.from(`k${first}`), Buffer.from("v")],
          db: 0,
          offset: 777,
          seq: first,
        },
      ],
    });
    await queue.send(snapshot(1));
    await queue.send(snapshot(2));
    await queue.send(snapshot(2)); // a retried send of the same batch: still deduplicated
    await queue.send(snapshot(1)); // the snapshot starts over
    await queue.send(snapshot(2));
    const got = await drain(queue);
    expect(got.map((r) => r.batch.first)).toEqual([1, 2, 1, 2]);
  });

  it("splits a batch over the message cap into ordered parts that reassemble it", async () => {
    const queue = new SqsBatchQueue({
      client: sqs.client,
      queueUrl: await createFifoQueue(sqs.client),
      encode: { maxBytes: 4_000 },
    });
    const batch = makeBatch("job-split", "s1", 10, 12);
    for (const c of batch.commands) c.argv.push(randomBytes(700));
    await queue.send(batch);
    const got = await drain(queue);
    expect(got.length).toBeGreaterThan(2);
    expect(got.flatMap((r) => r.batch.commands)).toEqual(batch.commands);
    expect(got[0]!.batch.first).toBe(batch.first);
    expect(got.at(-1)!.batch.last).toBe(batch.last);
  });

  it("connect() caps messages at the queue's MaximumMessageSize and refuses a standard queue", async () => {
    const queueUrl = await createFifoQueue(sqs.client, 30, 4_096);
    const queue = await SqsBatchQueue.connect({ client: sqs.client, queueUrl });
    expect(queue.maxMessageBytes).toBe(4_096 - 1_024);
    const batch = makeBatch("job-cap", "s1", 10, 10);
    for (const c of batch.commands) c.argv.push(randomBytes(600));
    await queue.send(batch);
    const got = await drain(queue);
    expect(got.length).toBeGreaterThan(1);
    expect(got.flatMap((r) => r.batch.commands)).toEqual(batch.commands);

    const standard = await sqs.client.send(
      new CreateQueueCommand({ QueueName: `ferry-standard-${process.pid}` }),
    );
    await expect(SqsBatchQueue.connect({ client: sqs.client, queueUrl: standard.QueueUrl! })).rejects.toThrow(
      /not a FIFO queue/,
    );
  });

  it("an undecodable message holds back its group (order) but not other groups", async () => {
    const queueUrl = await createFifoQueue(sqs.client, 1);
    const queue = new SqsBatchQueue({ client: sqs.client, queueUrl });
    const group = messageGroupId("job-poison", "s1");
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: "garbage",
        MessageGroupId: group,
        MessageDeduplicationId: "p1",
      }),
    );
    await queue.send(makeBatch("job-poison", "s1", 200));
    await queue.send(makeBatch("job-poison", "s2", 300));
    const got = await queue.receive(10, 0);
    expect(got.map((r) => `${r.batch.shard}:${r.batch.first}`)).toEqual(["s2:300"]);
  });

  it("ids stay within SQS limits (≤128 printable ASCII) whatever job and shard ids hold", () => {
    const long = "x".repeat(200);
    for (const id of [
      messageGroupId(long, "s1"),
      messageGroupId("job", "shard with spaces"),
      messageDeduplicationId(
        { job: long, shard: "s", kind: "snapshot", replid: "r", snapshotOffset: 5 },
        1,
        9,
      ),
    ]) {
      expect(id.length).toBeLessThanOrEqual(128);
      expect(id).toMatch(/^[\x21-\x7e]+$/);
    }
    expect(messageGroupId("job-1", "10.0.0.1:6379")).toBe("job-1:10.0.0.1:6379");
    // Snapshots of different FULLRESYNC offsets restart seq at 1: their ids must differ.
    const snap = (snapshotOffset: number) =>
      messageDeduplicationId({ job: "j", shard: "s", kind: "snapshot", replid: "r", snapshotOffset }, 1, 100);
    expect(snap(10)).not.toBe(snap(20));
  });

  it("receives with the FIFO system attributes (MessageGroupId, SequenceNumber)", async () => {
    const queueUrl = await createFifoQueue(sqs.client);
    await new SqsBatchQueue({ client: sqs.client, queueUrl }).send(makeBatch("job-attr", "s1", 1));
    const out = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, AttributeNames: ["All"] }),
    );
    expect(out.Messages?.[0]?.Attributes?.MessageGroupId).toBe("job-attr:s1");
    expect(out.Messages?.[0]?.Attributes?.SequenceNumber).toMatch(/^\d+$/);
  });
});

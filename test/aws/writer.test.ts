/**
 * The SQS Lambda writer driven with SQSEvent records shaped like the ones Lambda delivers from a FIFO
 * queue, applying through the real standalone TargetWriter to a real redis-server.
 */
import { randomUUID } from "node:crypto";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryJobStore } from "../../core/adapters/memory/jobStore.ts";
import { MemoryOffsetStore } from "../../core/adapters/memory/offsetStore.ts";
import { messageGroupId } from "../../core/adapters/sqs/ids.ts";
import type { JobSpec } from "../../core/jobs/spec.ts";
import type { Batch, Command } from "../../core/model.ts";
import { encodeBatch } from "../../core/wire/encode.ts";
import { AwsSecretResolver } from "../../functions/aws/secrets.ts";
import { createTargetWriters, type TargetWriters } from "../../functions/aws/targetWriters.ts";
import { createWriterHandler, type WriterHandler } from "../../functions/writer.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const REPLID = "3f1e0c5a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f";
const QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ferry-batches.fifo";

let target: RedisProc;
let redis: Redis;
let offsets: MemoryOffsetStore;
let writers: TargetWriters;
let handler: WriterHandler;
let sequence = 10_000_000;

beforeAll(async () => {
  target = await startRedis();
  redis = target.client();
  const jobs = new MemoryJobStore<JobSpec>();
  const now = new Date().toISOString();
  for (const id of ["job-a", "job-b"]) {
    await jobs.create({
      id,
      state: "streaming",
      version: 1,
      // The target as a secret reference: only the variable's name is in the job record.
      spec: {
        source: "redis://source:6379",
        target: { secret: { env: "FERRY_TEST_TARGET_URL" } },
        mode: "full+incremental",
      },
      status: {},
      createdAt: now,
      updatedAt: now,
      labels: {},
    });
  }
  offsets = new MemoryOffsetStore();
  writers = createTargetWriters({
    jobs,
    secrets: new AwsSecretResolver({ env: { FERRY_TEST_TARGET_URL: target.url } }),
  });
  handler = createWriterHandler({ offsets, writers, log: () => {} });
});

afterAll(async () => {
  await writers?.closeAll();
  await target?.stop();
});

const cmd = (offset: number, ...argv: string[]): Command => ({
  argv: argv.map((a) => Buffer.from(a)),
  db: 0,
  offset,
});

function batch(job: string, shard: string, commands: Command[]): Batch {
  return {
    job,
    shard,
    replid: REPLID,
    kind: "stream",
    first: commands[0]!.offset,
    last: commands.at(-1)!.offset,
    commands,
    bytes: 100,
  };
}

/** A record as Lambda's SQS event source delivers it from a FIFO queue. */
function record(body: string, job: string, shard: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${Buffer.from(randomUUID()).toString("base64")}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: now,
      SenderId: "AROAEXAMPLE:ferry-replicator",
      ApproximateFirstReceiveTimestamp: now,
      SequenceNumber: String(++sequence).padStart(20, "1"),
      MessageGroupId: messageGroupId(job, shard),
      MessageDeduplicationId: randomUUID(),
    },
    messageAttributes: {},
    md5OfBody: "0".repeat(32),
    eventSource: "aws:sqs",
    eventSourceARN: QUEUE_ARN,
    awsRegion: "us-east-1",
  };
}

const recordOf = (b: Batch): SQSRecord => record(encodeBatch(b)[0]!, b.job, b.shard);
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

describe("writer Lambda handler", () => {
  it("applies a group's batches in order and records the applied offset", async () => {
    const r1 = recordOf(
      batch("job-a", "s1", [cmd(110, "INCR", "a:counter"), cmd(120, "RPUSH", "a:list", "x")]),
    );
    const r2 = recordOf(
      batch("job-a", "s1", [cmd(130, "INCR", "a:counter"), cmd(140, "RPUSH", "a:list", "y")]),
    );
    expect(await handler(event(r1, r2))).toEqual({ batchItemFailures: [] });
    expect(await redis.get("a:counter")).toBe("2");
    expect(await redis.lrange("a:list", 0, -1)).toEqual(["x", "y"]);
    expect(await offsets.get("job-a", "s1")).toEqual({ replid: REPLID, offset: 140, db: 0 });
  });

  it("a redelivered batch (SQS at-least-once) is not applied twice: INCR and LPUSH stay put", async () => {
    const b = batch("job-a", "s2", [cmd(210, "INCR", "dup:counter"), cmd(220, "LPUSH", "dup:list", "v")]);
    const first = recordOf(b);
    expect(await handler(event(first))).toEqual({ batchItemFailures: [] });
    const again = {
      ...first,
      messageId: randomUUID(),
      attributes: { ...first.attributes, ApproximateReceiveCount: "2" },
    };
    expect(await handler(event(again))).toEqual({ batchItemFailures: [] });
    // And an older batch arriving after a newer one (retry of a lost ack) neither applies nor rewinds.
    const older = recordOf(batch("job-a", "s2", [cmd(205, "INCR", "dup:counter")]));
    expect(await handler(event(older))).toEqual({ batchItemFailures: [] });
    expect(await redis.get("dup:counter")).toBe("1");
    expect(await redis.llen("dup:list")).toBe(1);
    expect((await offsets.get("job-a", "s2"))?.offset).toBe(220);
  });

  it("partial failure: a failed record fails the rest of its group only; redelivery completes it", async () => {
    const ok1 = recordOf(batch("job-a", "s3", [cmd(310, "INCR", "pf:a")]));
    const poison = record(Buffer.from("not a batch").toString("base64"), "job-a", "s3");
    const after = recordOf(batch("job-a", "s3", [cmd(330, "INCR", "pf:a")]));
    const otherGroup = recordOf(batch("job-b", "s1", [cmd(50, "INCR", "pf:b")]));
    const res = await handler(event(ok1, poison, after, otherGroup));
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [poison.messageId, after.messageId].sort(),
    );
    expect(await redis.get("pf:a")).toBe("1");
    expect(await redis.get("pf:b")).toBe("1");
    expect((await offsets.get("job-a", "s3"))?.offset).toBe(310);

    // Once the poison message is gone (DLQ), SQS redelivers the withheld record: applied once.
    expect(await handler(event(after))).toEqual({ batchItemFailures: [] });
    expect(await redis.get("pf:a")).toBe("2");
    expect((await offsets.get("job-a", "s3"))?.offset).toBe(330);
  });

  it("a batch of an unknown job fails its group without touching others", async () => {
    const ghost = recordOf(batch("job-ghost", "s1", [cmd(10, "SET", "ghost", "1")]));
    const fine = recordOf(batch("job-b", "s9", [cmd(10, "SET", "fine", "1")]));
    const res = await handler(event(ghost, fine));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: ghost.messageId }]);
    expect(await redis.exists("ghost")).toBe(0);
    expect(await redis.get("fine")).toBe("1");
  });

  it("groups arrive interleaved and in any relative order: each group still applies in its own order", async () => {
    const a = [1, 2, 3].map((i) =>
      recordOf(batch("job-a", "ooo", [cmd(1000 + i, "RPUSH", "ooo:a", `a${i}`)])),
    );
    const b = [1, 2, 3].map((i) =>
      recordOf(batch("job-b", "ooo", [cmd(5000 + i, "RPUSH", "ooo:b", `b${i}`)])),
    );
    // Group b's later batches come in an invocation before group a's first ones.
    expect(await handler(event(b[0]!, b[1]!))).toEqual({ batchItemFailures: [] });
    expect(await handler(event(a[0]!, b[2]!, a[1]!, a[2]!))).toEqual({ batchItemFailures: [] });
    expect(await redis.lrange("ooo:a", 0, -1)).toEqual(["a1", "a2", "a3"]);
    expect(await redis.lrange("ooo:b", 0, -1)).toEqual(["b1", "b2", "b3"]);
    expect((await offsets.get("job-a", "ooo"))?.offset).toBe(1003);
    expect((await offsets.get("job-b", "ooo"))?.offset).toBe(5003);
  });

  it("a batch delivered before its predecessor is applied fails (gap check) and applies once redelivered in order", async () => {
    const first = recordOf({ ...batch("job-a", "gap", [cmd(710, "RPUSH", "gap:list", "1")]), after: 700 });
    const second = recordOf({ ...batch("job-a", "gap", [cmd(720, "RPUSH", "gap:list", "2")]), after: 710 });
    await handler(event(recordOf({ ...batch("job-a", "gap", [cmd(700, "RPUSH", "gap:list", "0")]) })));
    // The first batch is lost for now (still in flight elsewhere); the second must not skip it.
    expect(await handler(event(second))).toEqual({
      batchItemFailures: [{ itemIdentifier: second.messageId }],
    });
    expect(await redis.lrange("gap:list", 0, -1)).toEqual(["0"]);
    expect(await handler(event(first, second))).toEqual({ batchItemFailures: [] });
    expect(await redis.lrange("gap:list", 0, -1)).toEqual(["0", "1", "2"]);
    expect((await offsets.get("job-a", "gap"))?.offset).toBe(720);
  });

  it("snapshot batches do not move the OffsetStore (a resume must not skip the rest of the snapshot)", async () => {
    const snap: Batch = {
      job: "job-b",
      shard: "snap",
      replid: REPLID,
      kind: "snapshot",
      first: 1,
      last: 2,
      snapshotOffset: 9000,
      commands: [
        { argv: [Buffer.from("SET"), Buffer.from("snap:1"), Buffer.from("v")], db: 0, offset: 9000, seq: 1 },
        { argv: [Buffer.from("SET"), Buffer.from("snap:2"), Buffer.from("v")], db: 0, offset: 9000, seq: 2 },
      ],
      bytes: 10,
    };
    expect(await handler(event(recordOf(snap)))).toEqual({ batchItemFailures: [] });
    expect(await redis.get("snap:2")).toBe("v");
    expect(await offsets.get("job-b", "snap")).toBeNull();
    expect(await handler(event(recordOf(batch("job-b", "snap", [cmd(9010, "SET", "snap:3", "v")]))))).toEqual(
      {
        batchItemFailures: [],
      },
    );
    expect((await offsets.get("job-b", "snap"))?.offset).toBe(9010);
  });
});

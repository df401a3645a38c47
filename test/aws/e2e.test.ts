/**
 * End to end, the AWS shape on this machine: replicator process → SQS FIFO (local-aws-sqs) →
 * writer Lambda handler (real SQSEvent records) → real target redis-server; jobs and offsets in
 * DynamoDB (dynalite). Snapshot plus a live non-idempotent load, a SIGKILL and restart that must
 * resume by +CONTINUE from the offset in DynamoDB, and a SIGTERM that must flush before exiting.
 */
import { randomBytes } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DynamoJobStore, DynamoOffsetStore } from "../../core/adapters/dynamodb/index.ts";
import type { JobSpec } from "../../core/jobs/spec.ts";
import type { StoredStatus } from "../../core/jobs/view.ts";
import type { WriterHandler } from "../../functions/writer.ts";
import type { Emulator } from "../helpers/emulators.ts";
import { fillDataset, startLoad } from "../helpers/load.ts";
import { type RedisProc, sleep, waitFor } from "../helpers/redis.ts";
import {
  type AwsWorld,
  infoNumber,
  type Poller,
  type ReplicatorProcess,
  replicaAckOffset,
  spawnReplicator,
  startAwsWorld,
  startPoller,
} from "./e2eHarness.ts";

const JOB = `job-${randomBytes(8).toString("hex")}`;
const SHARD = "standalone";

let world: AwsWorld;
let source: RedisProc;
let src: Redis;
let dst: Redis;
let sqs: Emulator<SQSClient>;
let queueUrl: string;
let jobs: DynamoJobStore<JobSpec, StoredStatus>;
let offsets: DynamoOffsetStore;
let handler: WriterHandler;
let poller: Poller | null = null;
let replicator: ReplicatorProcess | null = null;
let replicatorEnv: Record<string, string>;

const identical = () => world.identical();

beforeAll(async () => {
  world = await startAwsWorld();
  ({ source, src, dst, sqs, queueUrl, jobs, offsets, handler } = world);
  const now = new Date().toISOString();
  await jobs.create({
    id: JOB,
    state: "pending",
    version: 1,
    // The target as a secret reference: the record holds only the variable's name.
    spec: { source: source.url, target: { secret: { env: "FERRY_E2E_TARGET" } }, mode: "full+incremental" },
    status: { requestHash: "e2e", events: [], lastError: null, progress: null },
    createdAt: now,
    updatedAt: now,
    labels: {},
  });
  replicatorEnv = { ...world.replicatorEnv, FERRY_JOB_ID: JOB };
}, 30_000);

afterAll(async () => {
  if (replicator && replicator.child.exitCode === null) {
    replicator.child.kill("SIGKILL");
    await replicator.exited;
  }
  await poller?.stop();
  await world?.stop();
});

describe("AWS shape end to end (replicator process → SQS → writer Lambda → target)", () => {
  it("copies the snapshot and the live stream; the job streams in DynamoDB; ACKs follow the offset store", async () => {
    await fillDataset(src, { keys: 150 });
    // Values far bigger than one SQS message: they must arrive in chunks, not fail the batch.
    await src.set("big:string", randomBytes(3 * 1024 * 1024));
    const elements = Array.from({ length: 20_000 }, (_, i) => `element-${i}-${"x".repeat(120)}`);
    await src.rpush("big:list", ...elements);
    poller = startPoller(sqs.client, queueUrl, handler);
    replicator = spawnReplicator(replicatorEnv);
    const load = startLoad({ url: source.url, keys: 80, pipeline: 10, seed: 1 });
    await waitFor(async () => (await jobs.get(JOB))?.state === "streaming", 30_000, 100);
    await sleep(500);
    await load.stop();
    await waitFor(identical, 30_000, 250);

    const job = await jobs.get(JOB);
    const shard = job?.status.progress?.shards.find((s) => s.shard === SHARD);
    expect(shard?.phase).toBe("streaming");
    expect(shard?.keysDone).toBeGreaterThan(0);
    expect(
      job?.status.events.some((e) => e.message.startsWith(`replicator for shard ${SHARD} started`)),
    ).toBe(true);
    // The master sees the applied offset the writer recorded (REPLCONF ACK fed from DynamoDB).
    await waitFor(
      async () => {
        const stored = await offsets.get(JOB, SHARD);
        return stored !== null && replicaAckOffset(await src.info("replication")) === stored.offset;
      },
      10_000,
      100,
    );
    const stored = await offsets.get(JOB, SHARD);
    expect(stored?.replid).toMatch(/^[0-9a-f]{40}$/);
  }, 90_000);

  it("SIGKILL mid-stream and restart: resumes from DynamoDB by +CONTINUE, exact counters", async () => {
    const before = await src.info("stats");
    const load = startLoad({ url: source.url, keys: 80, pipeline: 10, seed: 2 });
    await sleep(1_500);
    // The writer pauses first, so batches the killed process sent stay queued past the offset the
    // new one resumes from (replayed, then dropped by the marker), and the store equals the marker.
    await poller!.stop();
    replicator!.child.kill("SIGKILL");
    expect(await replicator!.exited).toBeNull();
    const stored = await offsets.get(JOB, SHARD);
    replicator = spawnReplicator(replicatorEnv);
    const restarted = replicator;
    await waitFor(() => restarted.lines.some((l) => l.includes("resume point from")), 20_000, 50);
    poller = startPoller(sqs.client, queueUrl, handler);
    await sleep(1_000);
    const sent = await load.stop();
    expect(sent).toBeGreaterThan(0);
    await waitFor(identical, 30_000, 250);

    const after = await src.info("stats");
    expect(infoNumber(after, "sync_full")).toBe(infoNumber(before, "sync_full"));
    expect(infoNumber(after, "sync_partial_ok")).toBe(infoNumber(before, "sync_partial_ok") + 1);
    const resumedFrom = replicator.lines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg?: string; offset?: number })
      .find((l) => l.msg === "resume point from the offset store");
    expect(resumedFrom?.offset).toBe(stored?.offset);
    expect(replicator.lines.some((l) => l.includes("partial resync: continuing from our offset"))).toBe(true);
  }, 90_000);

  it("SIGTERM: stops reading, sends what it read to SQS, exits 0", async () => {
    // No writer while the replicator stops: what reaches the target afterwards came from the queue.
    await poller!.stop();
    const p = src.pipeline();
    for (let i = 0; i < 500; i++) p.incr("sigterm:counter").rpush("sigterm:list", String(i));
    await p.exec();
    await sleep(1_000);
    replicator!.child.kill("SIGTERM");
    expect(await replicator!.exited).toBe(0);
    expect(replicator!.lines.some((l) => l.includes("stopped; batches flushed"))).toBe(true);

    poller = startPoller(sqs.client, queueUrl, handler);
    await waitFor(identical, 30_000, 250);
    expect(await dst.get("sigterm:counter")).toBe("500");
    expect(await dst.llen("sigterm:list")).toBe(500);
    // Stopping the process is not stopping the job: a new task continues it.
    expect((await jobs.get(JOB))?.state).toBe("streaming");
  }, 60_000);
});

import { afterAll, beforeAll, expect, it } from "vitest";
import { MemoryBatchQueue } from "../../core/adapters/memory/batchQueue.ts";
import { FatalError, RetryableError } from "../../core/errors.ts";
import type { Batch, Command } from "../../core/model.ts";
import { startApplyLoop } from "../../core/pipeline/applyLoop.ts";
import { Batcher } from "../../core/pipeline/batcher.ts";
import { LagTracker } from "../../core/pipeline/lag.ts";
import { RateLimiter } from "../../core/pipeline/rateLimiter.ts";
import { createStandaloneWriter, type StandaloneWriter } from "../../core/writer/standalone.ts";
import type { ApplyResult } from "../../core/writer/types.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";

const REPLID = "d".repeat(40);
const arg = (s: string | number): Buffer => Buffer.from(String(s));

let target: RedisProc;
let writer: StandaloneWriter;

beforeAll(async () => {
  target = await startRedis();
  writer = await createStandaloneWriter({ target: { host: target.host, port: target.port } });
});
afterAll(async () => {
  await writer?.close();
  await target?.stop();
});

it("batcher → bounded memory queue → apply loop → writer: exactly once through failures and redelivery", async () => {
  const queue = new MemoryBatchQueue({ maxBytes: 8 * 1024 });
  const batcher = new Batcher({ job: "e2e", shard: "standalone", queue, maxCommands: 25, maxAgeMs: 2 });
  const lag = new LagTracker();
  // Fail every 7th apply once with a retryable error (a dropped connection) to force nack + redelivery.
  let calls = 0;
  const flaky = {
    apply: (batch: Batch): Promise<ApplyResult> => {
      calls++;
      if (calls % 7 === 0) return Promise.reject(new RetryableError("simulated connection reset"));
      return writer.apply(batch);
    },
  };
  let retries = 0;
  const loop = startApplyLoop({
    queue,
    writer: flaky,
    limiter: new RateLimiter({ opsPerSecond: 20_000 }),
    retryDelayMs: 1,
    onApplied: (b, r) => lag.applied(b.last, r.applied),
    onRetry: () => retries++,
  });

  await batcher.beginStream(REPLID, 0);
  let offset = 0;
  let db = 0;
  const total = 2000;
  for (let i = 0; i < total; i += 4) {
    const commands: Command[] = [];
    for (let j = 0; j < 4; j++) {
      offset += 30;
      if ((i + j) % 500 === 0) db = (db + 1) % 3;
      commands.push({ argv: [arg("INCR"), arg(`ctr${(i + j) % 10}`)], db, offset });
    }
    lag.received(offset);
    await batcher.stream(commands, offset + 14, db); // a trailing PING
  }
  await batcher.close();
  await waitFor(() => lag.snapshot().appliedOffset === offset + 14, 20_000);
  await loop.stop();

  expect(retries).toBeGreaterThan(0);
  expect(lag.snapshot()).toMatchObject({ lagSeconds: 0, appliedOffset: offset + 14 });
  const client = target.client();
  let sum = 0;
  for (const d of [0, 1, 2]) {
    await client.select(d);
    for (let k = 0; k < 10; k++) sum += Number((await client.get(`ctr${k}`)) ?? 0);
  }
  expect(sum).toBe(total); // every INCR exactly once
  expect(await writer.readMarker("e2e", "standalone")).toEqual({ replid: REPLID, offset: offset + 14, db });
  expect(queue.bytes).toBe(0);
});

it("a fatal error stops the loop and leaves the batch queued", async () => {
  const queue = new MemoryBatchQueue();
  const fatal = new FatalError("target is a read-only replica: point --target at its master");
  const loop = startApplyLoop({ queue, writer: { apply: () => Promise.reject(fatal) }, waitMs: 10 });
  await queue.send({
    job: "f",
    shard: "s",
    replid: REPLID,
    kind: "stream",
    first: 1,
    last: 1,
    commands: [],
    bytes: 10,
  });
  await expect(loop.done).rejects.toBe(fatal);
  expect(queue.depth).toBe(1);
});

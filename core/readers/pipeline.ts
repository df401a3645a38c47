/**
 * The write side every reader shares: a bounded memory queue (backpressure on the reader), the
 * `--max-ops`/`--max-bytes` token buckets, and apply loops into the exactly-once writer. Same parts
 * as the PSYNC runtime, so rate limits, retries and markers behave the same in every mode.
 */
import { MemoryBatchQueue } from "../adapters/memory/batchQueue.ts";
import type { SyncConfig } from "../jobs/syncConfig.ts";
import type { Batch } from "../model.ts";
import type { Logger } from "../observability/logger.ts";
import type { FerryMetrics } from "../observability/metrics.ts";
import { type ApplyLoop, startApplyLoop } from "../pipeline/applyLoop.ts";
import { RateLimiter } from "../pipeline/rateLimiter.ts";
import type { ApplyResult, TargetWriter } from "../writer/types.ts";

export interface ReaderPipeline {
  readonly queue: MemoryBatchQueue;
  /** Never resolves; rejects when an apply loop stops on a fatal error. */
  readonly failed: Promise<never>;
  /** Stop the apply loops (after the caller drained what it needs applied). */
  stop(): Promise<void>;
}

export function rateLimiterFor(config: SyncConfig): RateLimiter | undefined {
  if (!config.maxOps && !config.maxBytesPerSecond) return undefined;
  return new RateLimiter({
    ...(config.maxOps ? { opsPerSecond: config.maxOps } : {}),
    ...(config.maxBytesPerSecond ? { bytesPerSecond: config.maxBytesPerSecond } : {}),
  });
}

export function startReaderPipeline(opts: {
  config: SyncConfig;
  writer: TargetWriter;
  log: Logger;
  metrics: FerryMetrics;
  /** Apply loops (≤ shards: one shard's batches apply in order anyway). */
  loops: number;
  onApplied: (batch: Batch, result: ApplyResult) => void;
}): ReaderPipeline {
  const { config, log, metrics } = opts;
  const queue = new MemoryBatchQueue({ maxBytes: config.queueBytes });
  const limiter = rateLimiterFor(config);
  const loops: ApplyLoop[] = [];
  for (let i = 0; i < Math.max(1, opts.loops); i++) {
    loops.push(
      startApplyLoop({
        queue,
        writer: opts.writer,
        ...(limiter ? { limiter } : {}),
        onApplied: (batch, result) => {
          metrics.appliedCommands.inc({ job: config.job, shard: batch.shard }, result.applied);
          metrics.appliedBytes.inc({ job: config.job, shard: batch.shard }, batch.bytes);
          opts.onApplied(batch, result);
        },
        onRetry: (batch, err) => {
          metrics.errors.inc({ job: config.job, shard: batch.shard, kind: "retryable" });
          log.warn({ shard: batch.shard, error: (err as Error).message }, "target write failed; retrying");
        },
      }),
    );
  }
  const never = new Promise<never>(() => {});
  const failed = Promise.race(loops.map((l) => l.done.then(() => never)));
  failed.catch(() => {});
  return {
    queue,
    failed,
    async stop() {
      await Promise.allSettled(loops.map((l) => l.stop()));
      await queue.close();
    },
  };
}

/**
 * `--source-mode scan`: one ScanShard per source master feeding the shared reader pipeline. For
 * sources where PSYNC is renamed or blocked (managed services). Guarantees (docs/readers.md):
 * eventual per-key convergence while notifications flow; no multi-key atomicity; no resume point
 * (a restart scans again, every write being idempotent: RESTORE … REPLACE or DEL).
 */
import { randomBytes } from "node:crypto";
import type { ShardProgress } from "../../model.ts";
import { RateLimiter } from "../../pipeline/rateLimiter.ts";
import { exportFilterMetrics } from "../filterMetrics.ts";
import { type ReaderPipeline, startReaderPipeline } from "../pipeline.ts";
import type { ReaderContext, ReaderStatus, SourceReader } from "../types.ts";
import { canReconcile } from "./reconcile.ts";
import { ScanShard, type ScanShardOptions } from "./scanShard.ts";

export type ScanReaderTuning = Pick<ScanShardOptions, "maxDirtyKeys" | "scanCount">;

export class ScanReader implements SourceReader {
  private readonly shards: ScanShard[] = [];
  private pipeline: ReaderPipeline | null = null;
  private stopRequested: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => {
    this.stopRequested = resolve;
  });
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: ReaderContext,
    private readonly tuning: ScanReaderTuning = {},
  ) {}

  run(): Promise<void> {
    const running = this.copy();
    this.finished = running.then(
      () => {},
      () => {},
    );
    return running;
  }

  private async copy(): Promise<void> {
    const { config, log, metrics, filter } = this.ctx;
    const byShard = new Map<string, ScanShard>();
    const pipeline = startReaderPipeline({
      config,
      writer: this.ctx.writer,
      log,
      metrics,
      loops: Math.min(4, this.ctx.sources.length),
      onApplied: (batch) => byShard.get(batch.shard)?.onApplied(batch),
    });
    this.pipeline = pipeline;
    const filterMetrics = exportFilterMetrics(filter, metrics, config.job);
    // Reads are paced like writes: DUMP of a key costs the source about what RESTORE costs the target.
    const readLimiter = config.maxOps ? new RateLimiter({ opsPerSecond: config.maxOps }) : undefined;
    // A fresh history per run: markers of an earlier run never make this one skip a copy.
    const replid = `scan-${randomBytes(8).toString("hex")}`;
    // Deletes missed while notifications were lost are found on the target only when its keys map
    // back to one source node unambiguously (reconcile.ts).
    const reconcile =
      this.ctx.sources.length === 1 && this.ctx.targetIsCluster === false && canReconcile(filter)
        ? { target: config.target, markerPrefix: config.markerPrefix }
        : undefined;
    for (const source of this.ctx.sources) {
      const shard = new ScanShard({
        job: config.job,
        shard: `scan-${source.id}`,
        replid,
        endpoint: source.endpoint,
        clusterNode: this.ctx.clusterSource,
        filter,
        target: this.ctx.target,
        queue: pipeline.queue,
        log,
        bigKeyThreshold: config.bigKeyThreshold,
        batch: config.batch,
        ...this.tuning,
        ...(reconcile ? { reconcile } : {}),
        ...(readLimiter ? { beforeRead: (keys: number) => readLimiter.take(keys) } : {}),
      });
      this.shards.push(shard);
      byShard.set(`scan-${source.id}`, shard);
    }
    log.info(
      { job: config.job, shards: this.shards.length },
      "scan mode: subscribing to keyspace notifications, then scanning every key",
    );
    const runs = this.shards.map((s) => s.run());
    for (const r of runs) r.catch(() => {});
    const never = new Promise<void>(() => {});
    const fatal = Promise.race([...runs.map((r) => r.then(() => never)), pipeline.failed]);
    const synced = config.untilSynced
      ? Promise.all(this.shards.map((s) => s.whenSynced())).then(() =>
          log.info({ job: config.job }, "synced: every key was copied and no change is pending"),
        )
      : never;
    try {
      await Promise.race([fatal, synced, this.stopped]);
      await Promise.all(this.shards.map((s) => s.stop()));
      await Promise.race([Promise.allSettled(runs), fatal]);
      await Promise.race([Promise.all(this.shards.map((s) => s.drained())), fatal]);
    } finally {
      await Promise.all(this.shards.map((s) => s.stop()));
      await pipeline.stop();
      filterMetrics.stop();
    }
  }

  async stop(): Promise<void> {
    this.stopRequested();
    await this.finished;
  }

  get synced(): boolean {
    return this.shards.length > 0 && this.shards.every((s) => s.synced);
  }

  get queueBytes(): number {
    return this.pipeline?.queue.bytes ?? 0;
  }

  progress(): ShardProgress[] {
    return this.shards.map((s) => s.progress());
  }

  status(): ReaderStatus {
    return { mode: "scan", shards: this.shards.map((s) => s.status()) };
  }
}

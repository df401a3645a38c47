/**
 * A whole migration on the embedded runtime: one ShardSync per source master, one bounded memory
 * queue, apply loops writing to the target through the exactly-once writer.
 *
 * Lifecycle: open() connects and inspects both sides (fails fast with a clear message); run()
 * replicates until stop(), until synced (`untilSynced`, `full-only`), or a fatal error; stop()
 * stops reading, lets the queue drain into the target, and closes everything.
 */
import { MemoryBatchQueue } from "../adapters/memory/batchQueue.ts";
import { builtinCommandTable } from "../commands/index.ts";
import type { CommandTable } from "../commands/table.ts";
import { compileFilter, type Filter, type FilterSpec } from "../filters/index.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type FerryMetrics } from "../observability/metrics.ts";
import { type ApplyLoop, startApplyLoop } from "../pipeline/applyLoop.ts";
import { RateLimiter } from "../pipeline/rateLimiter.ts";
import { exportFilterMetrics } from "../readers/filterMetrics.ts";
import { ScanReader, type ScanReaderTuning } from "../readers/scan/scanReader.ts";
import type { SourceMode, SourceReader } from "../readers/types.ts";
import type { TargetInfo } from "../snapshot/target.ts";
import type { StandaloneWriter } from "../writer/standalone.ts";
import type { TargetWriter } from "../writer/types.ts";
import { followSourceFailovers } from "./clusterSource.ts";
import { ShardSync } from "./shardSync.ts";
import { SlotHandoff } from "./slotHandoff.ts";
import { SourceOffsetPollers } from "./sourceOffsets.ts";
import type { SyncConfig } from "./syncConfig.ts";
import {
  filterSpecFor,
  inspectEndpoints,
  openWriter,
  type SourceShard,
  targetIsCluster,
} from "./syncEndpoints.ts";
import { type SyncPhase, type SyncStatus, shardTotals, shownPhase } from "./syncStatus.ts";

export type { SyncStatus } from "./syncStatus.ts";

export interface SyncJobOptions {
  config: SyncConfig;
  filters?: FilterSpec;
  log: Logger;
  metrics?: FerryMetrics;
  /** `psync` (default): replica emulation; `scan`: SCAN + keyspace notifications (core/readers). */
  sourceMode?: SourceMode;
  scanTuning?: ScanReaderTuning;
}

export class SyncJob {
  private readonly shards: ShardSync[] = [];
  private readonly queue: MemoryBatchQueue;
  private loops: ApplyLoop[] = [];
  private readonly pollers = new SourceOffsetPollers((i, offset) => this.shards[i]?.sourceOffset(offset));
  private topologyWatch: { stop(): void } | null = null;
  /** Set in scan mode: the reader owns its pipeline. */
  private reader: SourceReader | null = null;
  private stopFilterMetrics: () => void = () => {};
  private phase: SyncPhase = "connecting";
  private readonly errors: string[] = [];
  private stopping: Promise<void> | null = null;
  private finished: Promise<void> = Promise.resolve();
  private stopRequested: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => {
    this.stopRequested = resolve;
  });
  private readonly startedAt = new Date();
  private synced = false;

  private constructor(
    private readonly opts: SyncJobOptions,
    readonly metrics: FerryMetrics,
    private readonly writer: TargetWriter,
    private readonly filter: Filter,
    private readonly sourceShards: SourceShard[],
    private readonly commandTable: CommandTable,
    private readonly target: TargetInfo,
    private readonly targetIsCluster: boolean,
  ) {
    this.queue = new MemoryBatchQueue({ maxBytes: opts.config.queueBytes });
  }

  /** Connects to both sides and checks what can be known before the first byte is copied. */
  static async open(opts: SyncJobOptions): Promise<SyncJob> {
    const { config, log } = opts;
    const metrics = opts.metrics ?? createMetrics();
    const spec = filterSpecFor(config, opts.filters);
    const sides = await inspectEndpoints(config, spec);
    const filter = compileFilter(spec, {
      onFirstDrop: (e) =>
        log.warn(
          { command: e.command, reason: e.reason, db: e.db },
          e.command.startsWith("FLUSH")
            ? `dropping ${e.command} from the source (the target keeps its data); pass --keep-flush to apply it`
            : `dropping ${e.command} from the source (${e.reason} filter)`,
        ),
    });
    const writer = await openWriter(config, sides.targetIsCluster, sides.commandTable, log);
    log.info(
      {
        job: config.job,
        source: config.source.display,
        sourceShards: sides.sourceShards.length,
        target: config.target.display,
        targetCluster: sides.targetIsCluster,
        targetVersion: `${sides.target.flavor} ${sides.target.version}`,
      },
      "connected to source and target",
    );
    return new SyncJob(
      opts,
      metrics,
      writer,
      filter,
      sides.sourceShards,
      sides.commandTable,
      sides.target,
      sides.targetIsCluster,
    );
  }

  get job(): string {
    return this.opts.config.job;
  }

  /** Removes a job's markers from the target without running it (`DELETE /v1/jobs/{id}`). */
  static async removeMarkers(config: SyncConfig): Promise<number> {
    const writer = await openWriter(config, await targetIsCluster(config), builtinCommandTable);
    try {
      return await writer.removeMarkers(config.job);
    } finally {
      await writer.close();
    }
  }

  /** Replicates until stop(), until synced (untilSynced / full-only), or a fatal error (rejects). */
  run(): Promise<SyncStatus> {
    const running = this.replicate().catch(async (err: unknown) => {
      // Failures before the shards run (a read-only or full target refusing the first write, a lag
      // poller that cannot connect) must still close the writer and pollers, or the process hangs.
      if (this.phase !== "failed") {
        this.phase = "failed";
        this.errors.push(err instanceof Error ? err.message : String(err));
      }
      await this.shutdown(false);
      throw err;
    });
    this.finished = running.then(
      () => {},
      () => {},
    );
    return running;
  }

  private async replicate(): Promise<SyncStatus> {
    const { config, log } = this.opts;
    await this.recordTargetEmptiness();
    if (this.opts.sourceMode === "scan") return this.replicateWithScan();
    const filterMetrics = exportFilterMetrics(this.filter, this.metrics, config.job);
    this.stopFilterMetrics = () => filterMetrics.stop();
    const limiter =
      config.maxOps || config.maxBytesPerSecond
        ? new RateLimiter({
            ...(config.maxOps ? { opsPerSecond: config.maxOps } : {}),
            ...(config.maxBytesPerSecond ? { bytesPerSecond: config.maxBytesPerSecond } : {}),
          })
        : undefined;
    const handoff = this.sourceShards[0]?.nodeId
      ? new SlotHandoff({
          shards: () =>
            this.shards.map((s, i) => ({
              id: this.sourceShards[i]!.id,
              handedOffset: () => s.handedOffset,
              appliedOffset: () => s.lag.snapshot().appliedOffset,
            })),
        })
      : undefined;
    for (const source of this.sourceShards) {
      this.shards.push(
        new ShardSync({
          job: config.job,
          shard: source.id,
          endpoint: source.endpoint,
          config,
          queue: this.queue,
          filter: this.filter,
          commandTable: this.commandTable,
          target: this.target,
          log,
          metrics: this.metrics,
          readMarker: () => this.writer.readMarker(config.job, source.id),
          beforeResnapshot: (reason) => this.beforeResnapshot(reason),
          ...(handoff ? { handoff } : {}),
        }),
      );
    }
    const byShard = new Map(this.shards.map((s, i) => [this.sourceShards[i]!.id, s]));
    const loopCount = Math.min(4, this.shards.length);
    for (let i = 0; i < loopCount; i++) {
      this.loops.push(
        startApplyLoop({
          queue: this.queue,
          writer: this.writer,
          ...(limiter ? { limiter } : {}),
          onApplied: (batch, result) => byShard.get(batch.shard)?.onApplied(batch, result),
          onRetry: (batch, err) => {
            this.metrics.errors.inc({ job: config.job, shard: batch.shard, kind: "retryable" });
            log.warn({ shard: batch.shard, error: (err as Error).message }, "target write failed; retrying");
          },
        }),
      );
    }
    await this.pollers.start(this.sourceShards.map((source) => source.endpoint));
    await this.followFailovers();
    this.phase = "snapshot";

    // Shard runs and apply loops only settle on their own when something fatal happened.
    const never = new Promise<void>(() => {});
    const running = [...this.shards.map((s) => s.run()), ...this.loops.map((l) => l.done)];
    for (const p of running) p.catch(() => {});
    const fatal = Promise.race(running.map((p) => p.then(() => never)));
    const untilSynced = config.untilSynced || config.mode === "full-only";
    const outcome = Promise.race([fatal, untilSynced ? this.waitSynced() : never, this.stopped]);
    try {
      await outcome;
    } catch (err) {
      this.phase = "failed";
      this.errors.push((err as Error).message);
      await this.shutdown(false);
      throw err;
    }
    await this.shutdown(true);
    return this.status();
  }

  /** `--source-mode scan`: the reader owns its pipeline; this job connects, stops and reports. */
  private async replicateWithScan(): Promise<SyncStatus> {
    const { config, log } = this.opts;
    const reader = new ScanReader(
      {
        config,
        log,
        metrics: this.metrics,
        writer: this.writer,
        filter: this.filter,
        target: this.target,
        sources: this.sourceShards,
        clusterSource: this.sourceShards[0]?.id !== "standalone",
        targetIsCluster: this.targetIsCluster,
      },
      this.opts.scanTuning,
    );
    this.reader = reader;
    this.phase = "snapshot";
    const run = reader.run();
    try {
      await Promise.race([run, this.stopped.then(() => reader.stop())]);
      await run;
      if (reader.synced) this.synced = true;
    } catch (err) {
      this.phase = "failed";
      this.errors.push((err as Error).message);
      throw err;
    } finally {
      if (config.cleanup && this.phase !== "failed") await this.writer.removeMarkers(this.job);
      await this.writer.close();
    }
    this.phase = this.synced ? "synced" : "stopped";
    return this.status();
  }

  /** Graceful stop: stop reading, apply what was read, close. Safe to call more than once. */
  async stop(): Promise<void> {
    this.stopRequested();
    await this.finished;
  }

  private async waitSynced(): Promise<void> {
    // Every shard streams, then catches up with the source offset read at that moment.
    const { log } = this.opts;
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      // A job that failed or stopped meanwhile is never synced; a timer left polling would keep the
      // process alive after the error was reported.
      if (this.stopping) return;
      if (this.shards.every((s) => s.streaming)) break;
    }
    await this.pollers.pollAll();
    await Promise.all(this.shards.map((s) => s.syncedTo(s.progress().sourceOffset)));
    this.synced = true;
    this.phase = "synced";
    log.info({ job: this.job }, "synced: the snapshot is applied and the target caught up with the source");
  }

  private shutdown(drain: boolean): Promise<void> {
    this.stopping ??= (async () => {
      if (this.phase !== "failed") this.phase = "stopping";
      await Promise.allSettled(this.shards.map((s) => s.stop()));
      if (drain) {
        const drained = Promise.all(this.shards.map((s) => s.drained()));
        const failed = Promise.race(this.loops.map((l) => l.done.then(() => new Promise<void>(() => {}))));
        await Promise.race([drained, failed]).catch((err: Error) => {
          this.phase = "failed";
          this.errors.push(err.message);
        });
      }
      await Promise.allSettled(this.loops.map((l) => l.stop()));
      this.topologyWatch?.stop();
      this.pollers.stop();
      this.stopFilterMetrics();
      if (this.opts.config.cleanup && this.phase !== "failed") {
        const removed = await this.writer.removeMarkers(this.job);
        this.opts.log.info({ job: this.job, removed }, "removed the job's markers from the target");
      }
      await this.writer.close();
      if (this.phase !== "failed") this.phase = "stopped";
    })();
    return this.stopping;
  }

  /** Cluster source: follow failovers (each shard reconnects to the master promoted for its slots). */
  private async followFailovers(): Promise<void> {
    if (this.sourceShards.length === 0 || this.sourceShards[0]!.id === "standalone") return;
    const { log, config } = this.opts;
    this.topologyWatch = await followSourceFailovers({
      seed: config.source,
      shards: this.sourceShards,
      log,
      onSwitch: async (source, to) => {
        const i = this.sourceShards.findIndex((s) => s.id === source.id);
        const shard = this.shards[i];
        if (!shard) return;
        await shard.switchEndpoint(to);
        await this.pollers.repoint(i, to);
      },
    }).catch((err: Error) => {
      log.warn(
        { error: err.message },
        "cannot watch the source topology: source failovers will not be followed",
      );
      return null;
    });
  }

  /** Target dbs this job writes to (for the emptiness record and a re-snapshot flush). */
  private mappedDbs(): number[] {
    if (this.targetIsCluster) return [0];
    const map = this.filter.spec.dbMap;
    if (map && Object.keys(map).length > 0) return [...new Set(Object.values(map))];
    return Array.from({ length: 16 }, (_, i) => i);
  }

  private async recordTargetEmptiness(): Promise<void> {
    const writer = this.writer as Partial<StandaloneWriter>;
    if (!writer.emptiness) return;
    const empty = await writer.emptiness.record(this.job, this.mappedDbs());
    if (!empty) {
      this.opts.log.warn(
        { job: this.job },
        "the target already holds keys: keys with the same names are overwritten, others are left alone",
      );
    }
  }

  private async beforeResnapshot(reason: string): Promise<void> {
    const writer = this.writer as Partial<StandaloneWriter>;
    const { log, config } = this.opts;
    const wasEmpty = writer.emptiness ? await writer.emptiness.wasEmpty(this.job) : null;
    if (writer.emptiness && wasEmpty && config.flushOnResnapshot && this.shards.length === 1) {
      await writer.emptiness.flush(this.mappedDbs());
      log.warn(
        { job: this.job },
        `${reason}: flushed the target's dbs (the job found them empty) before the new snapshot`,
      );
      return;
    }
    log.warn(
      { job: this.job },
      `${reason}: keys deleted on the source since the last snapshot may remain on the target ` +
        (this.shards.length > 1
          ? "(a cluster shard cannot flush the target alone); run `ferry verify` afterwards"
          : "(the target was not empty when the job started); run `ferry verify` afterwards"),
    );
  }

  status(): SyncStatus {
    const shards = this.reader ? this.reader.progress() : this.shards.map((s) => s.progress());
    const counters = this.filter.counters;
    return {
      job: this.job,
      phase: shownPhase(this.phase, shards, this.synced || this.reader?.synced === true),
      source: this.opts.config.source.display,
      target: this.opts.config.target.display,
      startedAt: this.startedAt.toISOString(),
      shards,
      totals: shardTotals(shards, this.reader ? this.reader.queueBytes : this.queue.bytes),
      filtered: {
        keys: counters.filteredKeys,
        commands: Object.values(counters.filteredCommands).reduce((a, b) => a + b, 0),
      },
      errors: [...this.errors],
      ...(this.reader ? { reader: this.reader.status() } : {}),
    };
  }
}

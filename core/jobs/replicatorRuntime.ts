/**
 * The replicator of the AWS shape, without the AWS SDK: one source shard of one job, read by a
 * ShardSync into a BatchQueue (SQS in production) that another process applies (the writer Lambda).
 * functions/replicator.ts wires it to DynamoDB, SQS and the secret stores; tests wire emulators.
 *
 * What this process cannot see, it reads from the stores:
 * - where to resume: the OffsetStore (what the writer recorded), or the target's marker when that is
 *   further or the only one there (DESIGN.md "Exactly-once apply");
 * - what was applied: the OffsetStore, polled every second, feeds the ACKs the master sees (without
 *   ACKs it drops the replica after repl-timeout) and the lag;
 * - what the job should do: the JobStore. A job paused, finished or deleted through the API stops
 *   this process (the API may also stop the task); a heartbeat writes progress and phase back.
 */
import { connectRedis } from "../connect/client.ts";
import { ConflictError, FatalError, isRetryable } from "../errors.ts";
import { compileFilter, type FilterSpec } from "../filters/index.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type FerryMetrics } from "../observability/metrics.ts";
import { startSourceOffsetPoller } from "../pipeline/lag.ts";
import type { BatchQueue, JobState, JobStore, OffsetStore } from "../ports.ts";
import { LEGACY_REPLID } from "../replication/replicaSession.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import type { MarkerState, TargetWriter } from "../writer/types.ts";
import { syncConfigFromSpec } from "./embeddedRunner.ts";
import { mergeShardReport, type ShardReport } from "./replicatorReport.ts";
import { ShardSync } from "./shardSync.ts";
import type { Endpoint, JobSpec } from "./spec.ts";
import { applyRunnerPhase } from "./stateMachine.ts";
import type { SyncConfig } from "./syncConfig.ts";
import { describeTarget, filterSpecFor } from "./syncEndpoints.ts";
import type { StoredJob, StoredStatus } from "./view.ts";
import { withEvent } from "./view.ts";

export interface ReplicatorRuntimeDeps {
  job: string;
  /** `standalone`, or the cluster shard id the runner chose (`slots-<first>-<last>`). */
  shard: string;
  /** How many shards the job has: it is `streaming` once every one of them streams. */
  shardCount: number;
  /** Cluster source: this shard's master (credentials still come from the spec's source URL). */
  sourceAddress?: { host: string; port: number };
  jobs: JobStore<JobSpec, StoredStatus>;
  offsets: OffsetStore;
  queue: BatchQueue;
  /** The redis:// URL of a spec endpoint (a URL, or a secret reference read where this runs). */
  resolveUrl(endpoint: Endpoint): Promise<string>;
  /** Opens a writer on the target, only to read this shard's marker; absent: the OffsetStore alone. */
  openTargetWriter?(target: RedisEndpoint): Promise<TargetWriter & { close?(): Promise<void> }>;
  log: Logger;
  metrics?: FerryMetrics;
  /** OffsetStore poll (ACKs, lag). Default 1000 ms. */
  pollMs?: number;
  /** JobStore heartbeat (progress, phase, reconcile with the job's state). Default 5000 ms. */
  heartbeatMs?: number;
  /** The ECS task running this (shown in the job's events). */
  taskId?: string;
}

export type ReplicatorOutcome =
  | { reason: "stopped" }
  | { reason: "job-not-running"; state: JobState | "deleted" }
  | { reason: "failed"; error: Error };

/** States in which a replicator has nothing to do: it stops (a `stopping` job may still cut over). */
const STOP_STATES: readonly JobState[] = ["paused", "completed", "failed"];
const MAX_WRITE_ATTEMPTS = 8;

export class ReplicatorRuntime {
  private readonly metrics: FerryMetrics;
  private sync: ShardSync | null = null;
  private stopRequested: ((outcome: ReplicatorOutcome) => void) | null = null;
  private stopReason: ReplicatorOutcome | null = null;
  private failure: Error | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private heartbeating: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ReplicatorRuntimeDeps) {
    this.metrics = deps.metrics ?? createMetrics();
  }

  /** Replicates until stop(), the job leaving its running states, or a fatal error. */
  async run(): Promise<ReplicatorOutcome> {
    const { deps } = this;
    const job = await deps.jobs.get(deps.job);
    if (!job) return { reason: "job-not-running", state: "deleted" };
    if (STOP_STATES.includes(job.state)) return { reason: "job-not-running", state: job.state };
    if (this.stopReason) return this.stopReason;

    const { config, filters } = await this.resolveConfig(job);
    // SQS caps a message (base64 body): a single command must fit one, so big values come chunked.
    const messageCap = (deps.queue as { maxMessageBytes?: number }).maxMessageBytes;
    if (messageCap) config.maxCommandBytes = Math.floor(messageCap * 0.5);
    const source: RedisEndpoint = deps.sourceAddress
      ? { ...config.source, ...deps.sourceAddress }
      : config.source;
    const targetClient = await connectRedis(config.target, { name: "ferry-inspect" });
    const { target, commandTable } = await describeTarget(targetClient).finally(() =>
      targetClient.disconnect(),
    );
    const filter = compileFilter(filterSpecFor(config, filters));

    const sync = new ShardSync({
      job: deps.job,
      shard: deps.shard,
      endpoint: source,
      config,
      queue: deps.queue,
      filter,
      commandTable,
      target,
      log: deps.log,
      metrics: this.metrics,
      appliedElsewhere: true,
      readMarker: () => this.resumePoint(config),
      // The writer Lambda may still hold earlier batches of this shard: flushing the target from
      // here could race them, so a re-snapshot overwrites (RESTORE … REPLACE) and warns instead.
      beforeResnapshot: async (reason) =>
        deps.log.warn(
          { job: deps.job, shard: deps.shard },
          `${reason}: keys deleted on the source since the last snapshot may remain on the target; run \`ferry verify\` afterwards`,
        ),
    });
    this.sync = sync;
    await this.recordEvent(
      `replicator for shard ${deps.shard} started${deps.taskId ? ` (${deps.taskId})` : ""}`,
    );

    const lagClient = await connectRedis(source, { name: "ferry-lag", longLived: true });
    const poller = startSourceOffsetPoller({
      client: lagClient,
      onOffset: (offset) => sync.sourceOffset(offset),
      onError: () => {},
    });
    this.every(deps.pollMs ?? 1000, () => this.pollApplied());
    this.every(deps.heartbeatMs ?? 5000, () => this.heartbeat());

    const stopped = new Promise<ReplicatorOutcome>((resolve) => {
      this.stopRequested = resolve;
    });
    const running = sync.run();
    running.catch(() => {});
    let outcome: ReplicatorOutcome;
    try {
      outcome = await Promise.race([running.then((): ReplicatorOutcome => ({ reason: "stopped" })), stopped]);
      // Stop reading; ShardSync.run() then closes the batcher, which sends what it holds.
      await sync.stop();
      await running;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // Only what retrying cannot fix fails the job; otherwise the process exits 1 and the job
      // stays as it is, to be resumed (ECS does not restart a standalone task).
      if (!isRetryable(err)) this.failure = error;
      outcome = { reason: "failed", error };
    } finally {
      for (const timer of this.timers) clearInterval(timer);
      poller.stop();
      lagClient.disconnect();
    }
    await this.heartbeating;
    await this.pollApplied();
    await this.heartbeat();
    return outcome;
  }

  /** Stop reading, send what was read to the queue, record progress; run() then resolves. */
  stop(): void {
    this.requestStop({ reason: "stopped" });
  }

  private requestStop(outcome: ReplicatorOutcome): void {
    this.stopReason ??= outcome;
    this.stopRequested?.(this.stopReason);
  }

  private async resolveConfig(job: StoredJob): Promise<{ config: SyncConfig; filters: FilterSpec }> {
    const [sourceUrl, targetUrl] = await Promise.all([
      this.deps.resolveUrl(job.spec.source),
      this.deps.resolveUrl(job.spec.target),
    ]);
    return syncConfigFromSpec(this.deps.job, { ...job.spec, source: sourceUrl, target: targetUrl });
  }

  /**
   * Where PSYNC continues: the OffsetStore, unless the target's marker is further, in another
   * history, or mid-snapshot (the marker is written with the data, the store just after it).
   */
  private async resumePoint(config: SyncConfig): Promise<MarkerState | null> {
    const { deps } = this;
    const stored = await deps.offsets.get(deps.job, deps.shard);
    const marker = await this.readTargetMarker(config);
    if (
      marker &&
      (marker.seq !== undefined ||
        !stored ||
        marker.replid !== stored.replid ||
        marker.offset > stored.offset)
    ) {
      deps.log.info(
        { job: deps.job, shard: deps.shard, replid: marker.replid, offset: marker.offset, seq: marker.seq },
        "resume point from the target's marker",
      );
      return marker;
    }
    if (!stored || stored.replid === LEGACY_REPLID) return null;
    deps.log.info(
      { job: deps.job, shard: deps.shard, replid: stored.replid, offset: stored.offset },
      "resume point from the offset store",
    );
    return { replid: stored.replid, offset: stored.offset, db: stored.db };
  }

  private async readTargetMarker(config: SyncConfig): Promise<MarkerState | null> {
    if (!this.deps.openTargetWriter) return null;
    try {
      const writer = await this.deps.openTargetWriter(config.target);
      try {
        return await writer.readMarker(this.deps.job, this.deps.shard);
      } finally {
        await writer.close?.();
      }
    } catch (err) {
      this.deps.log.warn(
        { job: this.deps.job, shard: this.deps.shard, error: (err as Error).message },
        "cannot read the target's marker; resuming from the offset store alone",
      );
      return null;
    }
  }

  private async pollApplied(): Promise<void> {
    const sync = this.sync;
    if (!sync) return;
    try {
      const stored = await this.deps.offsets.get(this.deps.job, this.deps.shard);
      if (stored) sync.appliedFromStore(stored.replid, stored.offset);
    } catch (err) {
      this.deps.log.warn({ error: (err as Error).message }, "cannot read the applied offset; retrying");
    }
  }

  /** Writes this shard's progress and the job phase; stops when the job no longer runs. */
  private heartbeat(): Promise<void> {
    this.heartbeating = this.heartbeating.then(() => this.writeHeartbeat());
    return this.heartbeating;
  }

  private async writeHeartbeat(): Promise<void> {
    const sync = this.sync;
    if (!sync) return;
    const report: ShardReport = {
      progress: sync.progress(),
      failed: this.failure,
      at: new Date().toISOString(),
    };
    await this.updateJob((job) => {
      if (STOP_STATES.includes(job.state)) {
        this.requestStop({ reason: "job-not-running", state: job.state });
        return null;
      }
      const merged = mergeShardReport(job.status, this.deps.shardCount, report);
      const next = applyRunnerPhase(job.state, merged.phase) ?? job.state;
      let status = merged.status;
      if (this.failure) {
        const lastError = { message: this.failure.message };
        status = withEvent(
          { ...status, lastError },
          { at: report.at, level: "error", message: lastError.message },
        );
      }
      return { state: next, status };
    });
  }

  private recordEvent(message: string): Promise<void> {
    const at = new Date().toISOString();
    return this.updateJob((job) => ({
      state: job.state,
      status: withEvent(job.status, { at, level: "info", message }),
    }));
  }

  /** Conditional update; a lost race reloads and tries again; the job store never crashes this. */
  private async updateJob(
    change: (job: StoredJob) => { state: JobState; status: StoredStatus } | null,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      try {
        const job = await this.deps.jobs.get(this.deps.job);
        if (!job) {
          this.requestStop({ reason: "job-not-running", state: "deleted" });
          return;
        }
        const next = change(job);
        if (!next) return;
        await this.deps.jobs.update(
          {
            ...job,
            state: next.state,
            status: next.status,
            version: job.version + 1,
            updatedAt: new Date().toISOString(),
          },
          job.version,
        );
        return;
      } catch (err) {
        if (err instanceof ConflictError) continue;
        this.deps.log.warn(
          { job: this.deps.job, error: (err as Error).message },
          "cannot update the job record",
        );
        return;
      }
    }
    this.deps.log.warn({ job: this.deps.job }, "job record busy: skipped this heartbeat");
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const timer = setInterval(() => void fn(), ms);
    timer.unref();
    this.timers.push(timer);
  }
}

export function assertShardCount(n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new FatalError(`shard count ${n} is not a positive integer`, "set FERRY_SHARD_COUNT to ≥ 1");
  return n;
}

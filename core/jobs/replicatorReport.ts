/**
 * How one replicator's heartbeat folds into the job record. Each shard of a job runs in its own
 * process (one Fargate task per source master) and writes only its own entry of
 * `status.progress.shards`; the job's phase follows from all entries together.
 */
import type { ShardProgress } from "../model.ts";
import type { RunnerStatus, ShardStatus } from "./runner.ts";
import type { RunnerPhase } from "./stateMachine.ts";
import type { StoredStatus } from "./view.ts";

export interface ShardReport {
  progress: ShardProgress;
  failed: Error | null;
  /** ISO-8601 time of the heartbeat. */
  at: string;
}

/**
 * The job's status with this shard's entry replaced, and the phase the job is in: `failed` when this
 * shard failed, `streaming` once every one of `shardCount` shards streams (snapshot applied),
 * `snapshot` before.
 */
export function mergeShardReport(
  status: StoredStatus,
  shardCount: number,
  report: ShardReport,
): { status: StoredStatus; phase: RunnerPhase } {
  const previous = status.progress?.shards ?? [];
  const mine = previous.find((s) => s.shard === report.progress.shard);
  const entry: ShardStatus = {
    ...report.progress,
    // Commands are applied by the writer Lambda; this process cannot count them.
    opsApplied: mine?.opsApplied ?? 0,
    errors: report.progress.reconnects + (report.failed ? 1 : 0),
    ...(report.failed ? { phase: "failed" as const, lastError: report.failed.message } : {}),
  };
  const shards = [...previous.filter((s) => s.shard !== entry.shard), entry].sort((a, b) =>
    a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0,
  );
  const allStreaming = shards.length >= shardCount && shards.every((s) => s.phase === "streaming");
  const phase: RunnerPhase = report.failed ? "failed" : allStreaming ? "streaming" : "snapshot";
  const progress: RunnerStatus = {
    phase,
    shards,
    keysDone: shards.reduce((sum, s) => sum + s.keysDone, 0),
    bytesDone: shards.reduce((sum, s) => sum + s.snapshotBytesDone, 0),
    lastError: report.failed ? { message: report.failed.message } : (status.progress?.lastError ?? null),
    events: [],
    at: report.at,
  };
  return { status: { ...status, progress }, phase };
}

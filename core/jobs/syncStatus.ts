/**
 * The status of a sync job (`/status`, the CLI's progress line and summary, the API's job view):
 * per-shard rows and their totals.
 */
import type { ShardProgress } from "../model.ts";
import type { ReaderStatus } from "../readers/types.ts";

export type SyncPhase =
  | "connecting"
  | "snapshot"
  | "streaming"
  | "synced"
  | "stopping"
  | "stopped"
  | "failed";

export interface SyncStatus {
  job: string;
  phase: SyncPhase;
  source: string;
  target: string;
  startedAt: string;
  shards: ShardProgress[];
  totals: {
    keysDone: number;
    snapshotBytesDone: number;
    snapshotBytesTotal: number | null;
    lagBytes: number;
    lagSeconds: number;
    opsPerSecond: number;
    reconnects: number;
    queueBytes: number;
  };
  filtered: { keys: number; commands: number };
  errors: string[];
  /** Non-PSYNC readers only (scan mode: dirty keys, oldest dirty age, rescans). */
  reader?: ReaderStatus;
}

/** Totals over the shards: sums, except lag seconds (the worst shard) and the snapshot size (known only when every shard knows it). */
export function shardTotals(shards: ShardProgress[], queueBytes: number): SyncStatus["totals"] {
  const sum = (f: (s: ShardProgress) => number) => shards.reduce((a, s) => a + f(s), 0);
  const totalKnown = shards.every((s) => s.snapshotBytesTotal !== null);
  return {
    keysDone: sum((s) => s.keysDone),
    snapshotBytesDone: sum((s) => s.snapshotBytesDone),
    snapshotBytesTotal: totalKnown ? sum((s) => s.snapshotBytesTotal ?? 0) : null,
    lagBytes: sum((s) => s.lagBytes),
    lagSeconds: Math.max(0, ...shards.map((s) => s.lagSeconds)),
    opsPerSecond: sum((s) => s.opsPerSecond),
    reconnects: sum((s) => s.reconnects),
    queueBytes,
  };
}

/** The job's phase as shown: "streaming" once every shard streams, "synced" once caught up. */
export function shownPhase(phase: SyncPhase, shards: ShardProgress[], synced: boolean): SyncPhase {
  let shown = phase;
  if (shown === "snapshot" && shards.length > 0 && shards.every((s) => s.phase === "streaming"))
    shown = "streaming";
  if (synced && shown === "streaming") shown = "synced";
  return shown;
}

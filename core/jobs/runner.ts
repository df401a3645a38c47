/**
 * The JobRunner port: what the job API drives. The embedded runner (core/jobs/embeddedRunner.ts)
 * runs the sync in this process; the AWS runner starts a Fargate replicator per source master.
 * The API never knows which: it calls these methods and renders what `subscribe` reports.
 */
import type { ShardProgress } from "../model.ts";
import type { JobSpec } from "./spec.ts";
import type { RunnerPhase } from "./stateMachine.ts";

export interface JobEvent {
  /** ISO-8601 time. */
  at: string;
  level: "info" | "warn" | "error";
  message: string;
  /** What the operator should do about it (from FerryError.advice). */
  advice?: string;
}

/** One source shard's counters; ShardProgress plus what /metrics exports per shard. */
export interface ShardStatus extends ShardProgress {
  /** Commands applied to the target (snapshot writes and stream commands). */
  opsApplied: number;
  /** Errors seen on this shard (retried or not). */
  errors: number;
}

/** What a runner knows about a job right now. */
export interface RunnerStatus {
  /** The phase the runner is in; the service moves the stored job state with it. */
  phase: RunnerPhase | "paused" | "stopping" | "pending";
  shards: ShardStatus[];
  keysDone: number;
  bytesDone: number;
  lastError: { message: string; advice?: string } | null;
  /** Newest last, bounded by the runner (a status is a snapshot, not a log store). */
  events: JobEvent[];
  /** ISO-8601 time of this snapshot. */
  at: string;
}

export interface StartOptions {
  /** Continue from the applied offsets (markers / OffsetStore) instead of a fresh start. */
  resume: boolean;
}

export interface CutoverResult {
  /** true: every shard's applied offset reached the source offset (lag 0). */
  synced: boolean;
  /** Applied offset per shard at the moment of the cutover. */
  offsets: Record<string, number>;
}

export type StatusListener = (status: RunnerStatus) => void;

export interface JobRunner {
  /** Starts (or, with resume, continues) the job. Resolves once it is running, not when it ends. */
  start(job: { id: string; spec: JobSpec }, opts: StartOptions): Promise<void>;
  /** Stops reading the source with the applied offsets recorded; resume continues from them. */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Ends the job where it stands (no drain). */
  stop(id: string): Promise<void>;
  /**
   * Drains: resolves once the applied offset of every shard equals the source offset (the
   * application must have stopped writing to the source), or when `timeoutMs` passes (synced false).
   */
  cutover(id: string, opts: { timeoutMs: number }): Promise<CutoverResult>;
  /** Removes the job's exactly-once markers from the target; returns how many were removed. */
  remove(id: string): Promise<number>;
  /** Latest status, or null if this runner does not run the job (not started, or another process). */
  status(id: string): RunnerStatus | null;
  /** Calls `listener` on every status change of the job; returns the unsubscribe function. */
  subscribe(id: string, listener: StatusListener): () => void;
  /** Graceful shutdown: pause every running job with offsets recorded, then release resources. */
  close(): Promise<void>;
}

/**
 * Small interfaces between the core and its runtimes (DESIGN.md layout). The memory adapters in
 * core/adapters/memory are the embedded default; core/adapters/{sqs,dynamodb,file} implement the same
 * contracts, each proven by one suite in test/contract/.
 */
import type { Batch } from "./model.ts";

/** Ordered per shard, parallel across shards, at-least-once. */
export interface BatchQueue {
  /** Enqueue; resolves once the batch is accepted (memory: may wait for room — this is backpressure). */
  send(batch: Batch): Promise<void>;
  /** Receive up to `max` batches; per shard, never returns a batch while an earlier one is unacked. */
  receive(max: number, waitMs: number): Promise<ReceivedBatch[]>;
  close(): Promise<void>;
}

export interface ReceivedBatch {
  batch: Batch;
  /** Mark applied: the batch is gone for good. */
  ack(): Promise<void>;
  /** Give it back for redelivery (after a failed apply). */
  nack(): Promise<void>;
}

export interface AppliedOffset {
  replid: string;
  offset: number;
  /** Current db of the source stream at `offset` (SELECT is not re-sent after +CONTINUE). */
  db: number;
}

/** Applied offset per (job, shard). Only moves forward; a backward advance is ignored, not an error. */
export interface OffsetStore {
  get(job: string, shard: string): Promise<AppliedOffset | null>;
  /** Atomic, conditional: stores `value` only if it is ahead of the stored offset (or replid changed via reset). */
  advance(job: string, shard: string, value: AppliedOffset): Promise<boolean>;
  /** Forget a shard's offset (new full resync with a new replid, or job deleted). */
  reset(job: string, shard: string): Promise<void>;
}

export type JobState = "pending" | "snapshot" | "streaming" | "paused" | "stopping" | "completed" | "failed";

export interface JobRecord<Spec = unknown, Status = unknown> {
  id: string;
  state: JobState;
  /** Incremented on every write; conditional updates compare it (optimistic concurrency). */
  version: number;
  spec: Spec;
  status: Status;
  createdAt: string;
  updatedAt: string;
  labels: Record<string, string>;
}

export interface JobListQuery {
  state?: JobState;
  label?: { key: string; value: string };
  limit: number;
  cursor?: string;
}

export interface JobStore<Spec = unknown, Status = unknown> {
  create(job: JobRecord<Spec, Status>): Promise<void>;
  get(id: string): Promise<JobRecord<Spec, Status> | null>;
  list(query: JobListQuery): Promise<{ jobs: JobRecord<Spec, Status>[]; cursor?: string }>;
  /** Writes `next` only if the stored version equals `expectedVersion`; else throws ConflictError. */
  update(next: JobRecord<Spec, Status>, expectedVersion: number): Promise<JobRecord<Spec, Status>>;
  delete(id: string): Promise<void>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * What the job store holds beside the spec, and the view of a job the API returns. The view never
 * carries a secret: URLs are redacted, secret references are only names.
 */
import type { JobRecord, JobState } from "../ports.ts";
import type { JobEvent, RunnerStatus, ShardStatus } from "./runner.ts";
import { type JobSpec, redactSpec } from "./spec.ts";
import { allowedActions, type JobAction } from "./stateMachine.ts";

export const MAX_STORED_EVENTS = 50;

export interface StoredStatus {
  /** sha256 of the canonical spec: an Idempotency-Key replay must carry the same body. */
  requestHash: string;
  /** Phase to return to on resume. */
  resumeTo?: "snapshot" | "streaming";
  /** Paused by a shutdown of `ferry serve`, not by a user: the next start resumes it. */
  resumeOnStart?: boolean;
  /** Events of the control plane (created, paused by the API, cutover result…), newest last. */
  events: JobEvent[];
  lastError: { message: string; advice?: string } | null;
  /** Last runner status persisted (on every state change and at shutdown). */
  progress: RunnerStatus | null;
}

export type StoredJob = JobRecord<JobSpec, StoredStatus>;

export interface JobView {
  id: string;
  name: string | null;
  state: JobState;
  version: number;
  spec: JobSpec;
  labels: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  actions: JobAction[];
  progress: {
    shards: ShardStatus[];
    keysDone: number;
    bytesDone: number;
    at: string | null;
  };
  lastError: { message: string; advice?: string } | null;
  events: JobEvent[];
}

export function toView(job: StoredJob, live: RunnerStatus | null): JobView {
  const progress = live ?? job.status.progress;
  const events = [...job.status.events, ...(progress?.events ?? [])]
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(-MAX_STORED_EVENTS);
  return {
    id: job.id,
    name: job.spec.name ?? null,
    state: job.state,
    version: job.version,
    spec: redactSpec(job.spec),
    labels: job.labels,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    actions: allowedActions(job.state),
    progress: {
      shards: progress?.shards ?? [],
      keysDone: progress?.keysDone ?? 0,
      bytesDone: progress?.bytesDone ?? 0,
      at: progress?.at ?? null,
    },
    lastError: progress?.lastError ?? job.status.lastError,
    events,
  };
}

export function withEvent(status: StoredStatus, event: JobEvent): StoredStatus {
  return { ...status, events: [...status.events, event].slice(-MAX_STORED_EVENTS) };
}

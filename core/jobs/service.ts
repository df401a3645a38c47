/**
 * Job control: the one place that changes a job. Every change is a conditional write
 * (JobStore.update with the version read), so of two racing requests exactly one wins and the other
 * gets a ConflictError (HTTP 409) — whatever the store (memory, file, DynamoDB).
 */
import { createHash, randomBytes } from "node:crypto";
import { ConflictError, FerryError } from "../errors.ts";
import type { Clock, JobListQuery, JobState, JobStore } from "../ports.ts";
import { systemClock } from "../ports.ts";
import { JobNotFoundError } from "./errors.ts";
import type { JobEvent, JobRunner, RunnerStatus } from "./runner.ts";
import { type JobSpec, specHash } from "./spec.ts";
import { applyAction, applyRunnerPhase, type JobAction, pausedPhase, RUNNER_PHASES } from "./stateMachine.ts";
import { type JobView, type StoredJob, type StoredStatus, toView, withEvent } from "./view.ts";

export type JobChange = { type: "state"; job: JobView } | { type: "progress"; status: RunnerStatus };
export type ControlAction = Exclude<JobAction, "delete">;

export interface JobServiceDeps {
  store: JobStore<JobSpec, StoredStatus>;
  runner: JobRunner;
  clock?: Clock;
  /** How long a cutover may drain before it gives up (the job keeps streaming). Default 15 min. */
  cutoverTimeoutMs?: number;
}

const MAX_RETRIES = 8;

/** Job ids: short (they are part of marker key names on the target), URL- and key-safe. */
export const JOB_ID = /^job-[a-f0-9]{16}$/;

export class JobService {
  private readonly clock: Clock;
  private readonly watchers = new Map<string, Set<(change: JobChange) => void>>();
  private readonly runnerSubs = new Map<string, () => void>();
  /** Runner phase reports are applied one at a time per job, in order. */
  private readonly phaseChains = new Map<string, Promise<void>>();
  private readonly cutovers = new Map<string, Promise<void>>();

  constructor(private readonly deps: JobServiceDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /**
   * Creates and starts a job. With an idempotency key the id is derived from the key, so a replay
   * (even one racing the first request) finds the same job: same body → that job, other body → 409.
   */
  async create(
    spec: JobSpec,
    opts: { idempotencyKey?: string } = {},
  ): Promise<{ job: JobView; created: boolean }> {
    const hash = specHash(spec);
    const key = opts.idempotencyKey;
    const id = key === undefined ? newJobId() : idFromKey(key);
    const now = this.isoNow();
    const record: StoredJob = {
      id,
      state: "pending",
      version: 1,
      spec,
      labels: spec.labels ?? {},
      createdAt: now,
      updatedAt: now,
      status: {
        requestHash: hash,
        events: [{ at: now, level: "info", message: "job created" }],
        lastError: null,
        progress: null,
      },
    };
    try {
      await this.deps.store.create(record);
    } catch (err) {
      const existing = key === undefined ? null : await this.deps.store.get(id);
      if (!existing) throw err;
      if (existing.status.requestHash !== hash) {
        throw new ConflictError(
          "this Idempotency-Key was already used with a different request body",
          "send a new Idempotency-Key for a different job, or repeat the original body",
        );
      }
      return { job: this.view(existing), created: false };
    }
    await this.startRunner(record, false);
    return { job: await this.get(id), created: true };
  }

  async get(id: string): Promise<JobView> {
    return this.view(await this.load(id));
  }

  async list(query: JobListQuery): Promise<{ jobs: JobView[]; cursor?: string }> {
    const page = await this.deps.store.list(query);
    const jobs = page.jobs.map((job) => this.view(job));
    return page.cursor === undefined ? { jobs } : { jobs, cursor: page.cursor };
  }

  /**
   * pause | resume | stop | cutover. `expectedVersion` (If-Match) makes the request fail on any
   * intervening change; without it a write that lost to an unrelated change (a runner progress
   * report) is retried as long as the action is still allowed.
   */
  async act(
    id: string,
    action: ControlAction,
    opts: { expectedVersion?: number; waitMs?: number } = {},
  ): Promise<{ job: JobView; synced?: boolean }> {
    const { before, after } = await this.transition(id, action, opts.expectedVersion, (job, next) => {
      const event: JobEvent = {
        at: this.isoNow(),
        level: "info",
        message: `${action}: ${job.state} → ${next}`,
      };
      const status: StoredStatus = { ...withEvent(job.status, event), resumeOnStart: false };
      if (action === "pause") status.resumeTo = pausedPhase(job.state);
      return status;
    });
    const loaded = this.deps.runner.status(id) !== null;
    try {
      if (action === "pause" && loaded) await this.deps.runner.pause(id);
      if (action === "resume") {
        if (loaded) await this.deps.runner.resume(id);
        else await this.startRunner(after, true);
      }
      if (action === "stop") {
        if (loaded) await this.deps.runner.stop(id);
        else await this.applyPhase(id, "completed");
      }
    } catch (err) {
      await this.recordFailure(id, action, before.state, err);
      throw err;
    }
    if (action !== "cutover") return { job: await this.get(id) };
    const done = this.startCutover(id);
    const waitMs = opts.waitMs ?? 0;
    if (waitMs > 0) await waitAtMost(done, waitMs);
    const job = await this.get(id);
    return waitMs > 0 ? { job, synced: job.state === "completed" } : { job };
  }

  /** Removes the job's markers on the target and the job itself. */
  async delete(id: string, opts: { expectedVersion?: number } = {}): Promise<{ markersRemoved: number }> {
    await this.transition(id, "delete", opts.expectedVersion, (job) =>
      withEvent(job.status, { at: this.isoNow(), level: "info", message: "delete requested" }),
    );
    this.runnerSubs.get(id)?.();
    this.runnerSubs.delete(id);
    const markersRemoved = await this.deps.runner.remove(id);
    await this.deps.store.delete(id);
    this.watchers.delete(id);
    return { markersRemoved };
  }

  /** Every change of one job: state changes (full view) and runner progress. */
  watch(id: string, listener: (change: JobChange) => void): () => void {
    let set = this.watchers.get(id);
    if (!set) {
      set = new Set();
      this.watchers.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.watchers.get(id) === set) this.watchers.delete(id);
    };
  }

  /** Open watches of a job (SSE streams); a closed stream must release its watch. */
  watcherCount(id: string): number {
    return this.watchers.get(id)?.size ?? 0;
  }

  /** After a restart: resume jobs that were running (or paused by the last shutdown). Returns how many. */
  async recover(): Promise<number> {
    let resumed = 0;
    let cursor: string | undefined;
    do {
      const page = await this.deps.store.list(cursor === undefined ? { limit: 100 } : { limit: 100, cursor });
      for (const job of page.jobs) {
        const running = job.state === "snapshot" || job.state === "streaming" || job.state === "pending";
        if (!running && !(job.state === "paused" && job.status.resumeOnStart)) continue;
        if (job.state === "paused") {
          const to = job.status.resumeTo ?? "snapshot";
          const next = await this.write(job, to, { ...job.status, resumeOnStart: false });
          await this.startRunner(next, true);
        } else {
          await this.startRunner(job, job.state !== "pending");
        }
        resumed++;
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
    return resumed;
  }

  /**
   * Graceful shutdown (SIGTERM): the runner pauses every job with its offsets recorded; the jobs are
   * stored as paused-by-shutdown with their last progress, and recover() resumes them.
   */
  async shutdown(): Promise<void> {
    const ids = [...this.runnerSubs.keys()];
    const last = new Map(ids.map((id) => [id, this.deps.runner.status(id)] as const));
    for (const unsubscribe of this.runnerSubs.values()) unsubscribe();
    this.runnerSubs.clear();
    await Promise.allSettled([...this.phaseChains.values()]);
    await this.deps.runner.close();
    for (const id of ids) {
      const job = await this.deps.store.get(id);
      if (!job || (job.state !== "snapshot" && job.state !== "streaming" && job.state !== "pending"))
        continue;
      const status: StoredStatus = {
        ...withEvent(job.status, { at: this.isoNow(), level: "info", message: "paused by server shutdown" }),
        resumeTo: pausedPhase(job.state),
        resumeOnStart: true,
        progress: last.get(id) ?? job.status.progress,
      };
      await this.write(job, "paused", status).catch(() => undefined);
    }
  }

  // --- internals -------------------------------------------------------------------------------

  private view(job: StoredJob): JobView {
    return toView(job, this.deps.runner.status(job.id));
  }

  private async load(id: string): Promise<StoredJob> {
    const job = await this.deps.store.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  private isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }

  /** Conditional write of a new state; notifies watchers. */
  private async write(job: StoredJob, state: JobState, status: StoredStatus): Promise<StoredJob> {
    const next: StoredJob = { ...job, state, status, version: job.version + 1, updatedAt: this.isoNow() };
    const stored = await this.deps.store.update(next, job.version);
    this.emit(stored.id, { type: "state", job: this.view(stored) });
    return stored;
  }

  private async transition(
    id: string,
    action: JobAction,
    expectedVersion: number | undefined,
    status: (job: StoredJob, next: JobState | "deleted") => StoredStatus,
  ): Promise<{ before: StoredJob; after: StoredJob }> {
    for (let attempt = 0; ; attempt++) {
      const job = await this.load(id);
      if (expectedVersion !== undefined && job.version !== expectedVersion) {
        throw new ConflictError(
          `job ${id} is at version ${job.version}, not ${expectedVersion}`,
          "reload the job (GET /v1/jobs/{id}) and decide again",
        );
      }
      const result = applyAction(job.state, action, job.status.resumeTo);
      if (!result.ok) throw new ConflictError(`${result.reason} (job ${id})`, result.advice);
      const next = result.next === "deleted" ? job.state : result.next;
      try {
        return { before: job, after: await this.write(job, next, status(job, result.next)) };
      } catch (err) {
        if (!(err instanceof ConflictError) || expectedVersion !== undefined || attempt >= MAX_RETRIES)
          throw err;
      }
    }
  }

  private async startRunner(job: StoredJob, resume: boolean): Promise<void> {
    this.runnerSubs.get(job.id)?.();
    this.runnerSubs.set(
      job.id,
      this.deps.runner.subscribe(job.id, (status) => this.onRunnerStatus(job.id, status)),
    );
    try {
      await this.deps.runner.start({ id: job.id, spec: job.spec }, { resume });
      // The phase the runner reported while starting is stored before the caller reads the job.
      await this.phaseChains.get(job.id);
    } catch (err) {
      await this.recordFailure(job.id, "start", job.state, err, true);
    }
  }

  private onRunnerStatus(id: string, status: RunnerStatus): void {
    this.emit(id, { type: "progress", status });
    const phase = status.phase;
    if (!(RUNNER_PHASES as readonly string[]).includes(phase)) return;
    void this.applyPhase(id, phase as (typeof RUNNER_PHASES)[number]);
  }

  private applyPhase(id: string, phase: (typeof RUNNER_PHASES)[number]): Promise<void> {
    const chain = (this.phaseChains.get(id) ?? Promise.resolve()).then(async () => {
      for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
        const job = await this.deps.store.get(id);
        const next = job ? applyRunnerPhase(job.state, phase) : null;
        if (!job || next === null) return;
        const progress = this.deps.runner.status(id) ?? job.status.progress;
        try {
          await this.write(job, next, {
            ...job.status,
            progress,
            lastError: progress?.lastError ?? job.status.lastError,
          });
          return;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
        }
      }
    });
    const settled = chain.catch(() => undefined);
    this.phaseChains.set(id, settled);
    return settled;
  }

  private startCutover(id: string): Promise<void> {
    const running =
      this.cutovers.get(id) ??
      this.deps.runner
        .cutover(id, { timeoutMs: this.deps.cutoverTimeoutMs ?? 15 * 60_000 })
        .then(async (result) => {
          const offsets = Object.entries(result.offsets)
            .map(([shard, offset]) => `${shard}@${offset}`)
            .join(", ");
          if (result.synced) {
            await this.record(id, {
              at: this.isoNow(),
              level: "info",
              message: `cutover: synced (${offsets})`,
            });
            await this.deps.runner.stop(id);
            // The runner reports completed too; writing it here makes `?wait=` see the final state.
            await this.applyPhase(id, "completed");
          } else {
            const event: JobEvent = {
              at: this.isoNow(),
              level: "warn",
              message: `cutover: lag did not reach 0 in time (${offsets}); the job keeps streaming`,
              advice: "stop writes to the source, then request the cutover again",
            };
            await this.record(id, event, "streaming");
          }
        })
        .catch((err: unknown) => this.recordFailure(id, "cutover", "streaming", err))
        .finally(() => this.cutovers.delete(id));
    this.cutovers.set(id, running);
    return running;
  }

  /** Appends an event (and optionally moves the state), retrying writes that lost to progress reports. */
  private async record(id: string, event: JobEvent, state?: JobState): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const job = await this.load(id);
      try {
        await this.write(job, state ?? job.state, withEvent(job.status, event));
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= MAX_RETRIES) throw err;
      }
    }
  }

  /** A runner call failed: record it; a start failure fails the job, others restore the state. */
  private async recordFailure(
    id: string,
    what: string,
    restore: JobState,
    err: unknown,
    fail = false,
  ): Promise<void> {
    const message = `${what} failed: ${err instanceof Error ? err.message : String(err)}`;
    const advice = err instanceof FerryError ? err.advice : undefined;
    const lastError = advice === undefined ? { message } : { message, advice };
    const event: JobEvent = {
      at: this.isoNow(),
      level: "error",
      message,
      ...(advice === undefined ? {} : { advice }),
    };
    for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
      const job = await this.deps.store.get(id);
      if (!job) return;
      try {
        await this.write(job, fail ? "failed" : restore, { ...withEvent(job.status, event), lastError });
        return;
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
      }
    }
  }

  private emit(id: string, change: JobChange): void {
    for (const listener of this.watchers.get(id) ?? []) listener(change);
  }
}

function newJobId(): string {
  return `job-${randomBytes(8).toString("hex")}`;
}

function idFromKey(key: string): string {
  return `job-${createHash("sha256").update(`idempotency:${key}`).digest("hex").slice(0, 16)}`;
}

/** Resolves with the promise's value, or undefined after `ms` (0: do not wait). */
async function waitAtMost(promise: Promise<void>, ms: number): Promise<true | undefined> {
  if (ms <= 0) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

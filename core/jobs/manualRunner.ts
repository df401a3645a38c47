/**
 * ManualRunner: a JobRunner that migrates nothing. Its jobs move only when its owner calls
 * `report()` / `fail()` — the API tests drive progress through it, and `ferry serve --runner manual`
 * uses it to try the API and console without touching any Redis. It keeps the full contract:
 * phases, listeners, cutover that waits for lag 0, markers counted per shard.
 */
import { FatalError } from "../errors.ts";
import type {
  CutoverResult,
  JobEvent,
  JobRunner,
  RunnerStatus,
  ShardStatus,
  StartOptions,
  StatusListener,
} from "./runner.ts";
import type { JobSpec } from "./spec.ts";

interface ManualJob {
  spec: JobSpec;
  status: RunnerStatus;
  listeners: Set<StatusListener>;
  /** Phase to return to on resume. */
  active: RunnerStatus["phase"];
}

export type ShardReport = Partial<ShardStatus> & { shard: string };

export class ManualRunner implements JobRunner {
  private readonly jobs = new Map<string, ManualJob>();
  /** Every call, in order: what a test asserts the API asked for. */
  readonly calls: Array<{ op: string; id: string; resume?: boolean }> = [];
  private closed = false;

  async start(job: { id: string; spec: JobSpec }, opts: StartOptions): Promise<void> {
    if (this.closed) throw new FatalError("the runner is shut down", "restart the server");
    this.calls.push({ op: "start", id: job.id, resume: opts.resume });
    const phase = job.spec.mode === "incremental-only" ? "streaming" : "snapshot";
    const previous = this.jobs.get(job.id);
    const status: RunnerStatus = previous
      ? { ...previous.status, phase }
      : { phase, shards: [], keysDone: 0, bytesDone: 0, lastError: null, events: [], at: now() };
    const entry: ManualJob = {
      spec: job.spec,
      status,
      listeners: previous?.listeners ?? new Set(),
      active: phase,
    };
    this.jobs.set(job.id, entry);
    this.publish(job.id, {
      events: [...status.events, event("info", opts.resume ? "resumed from offsets" : "started")],
    });
  }

  async pause(id: string): Promise<void> {
    this.calls.push({ op: "pause", id });
    const job = this.require(id);
    job.active = job.status.phase;
    this.publish(id, {
      phase: "paused",
      shards: job.status.shards.map((s) => ({ ...s, phase: "paused" as const })),
    });
  }

  async resume(id: string): Promise<void> {
    this.calls.push({ op: "resume", id });
    const job = this.require(id);
    this.publish(id, { phase: job.active === "paused" ? "snapshot" : job.active });
  }

  async stop(id: string): Promise<void> {
    this.calls.push({ op: "stop", id });
    this.require(id);
    this.publish(id, {
      phase: "completed",
      shards: this.require(id).status.shards.map((s) => ({ ...s, phase: "stopped" as const })),
    });
  }

  async cutover(id: string, opts: { timeoutMs: number }): Promise<CutoverResult> {
    this.calls.push({ op: "cutover", id });
    const job = this.require(id);
    const result = (): CutoverResult => ({
      synced: job.status.shards.every((s) => s.lagBytes === 0),
      offsets: Object.fromEntries(job.status.shards.map((s) => [s.shard, s.appliedOffset])),
    });
    if (result().synced) return result();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        job.listeners.delete(check);
        resolve(result());
      }, opts.timeoutMs);
      const check: StatusListener = () => {
        if (!result().synced) return;
        clearTimeout(timer);
        job.listeners.delete(check);
        resolve(result());
      };
      job.listeners.add(check);
    });
  }

  async remove(id: string): Promise<number> {
    this.calls.push({ op: "remove", id });
    const job = this.jobs.get(id);
    this.jobs.delete(id);
    return job?.status.shards.length ?? 0;
  }

  status(id: string): RunnerStatus | null {
    const job = this.jobs.get(id);
    return job && job.status.phase !== "pending" ? job.status : null;
  }

  subscribe(id: string, listener: StatusListener): () => void {
    let job = this.jobs.get(id);
    if (!job) {
      // Subscribing before start is allowed: the entry is filled in by start().
      job = { spec: {} as JobSpec, status: idle(), listeners: new Set(), active: "pending" };
      this.jobs.set(id, job);
    }
    const listeners = job.listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, job] of this.jobs) {
      if (job.status.phase === "snapshot" || job.status.phase === "streaming") await this.pause(id);
    }
  }

  // --- what the owner drives ------------------------------------------------------------------

  /** Updates shard rows (merged by shard id) and counters, then notifies listeners. */
  report(
    id: string,
    update: {
      phase?: RunnerStatus["phase"];
      shards?: ShardReport[];
      keysDone?: number;
      bytesDone?: number;
      event?: JobEvent;
    },
  ): void {
    const job = this.require(id);
    const shards = [...job.status.shards];
    for (const row of update.shards ?? []) {
      const i = shards.findIndex((s) => s.shard === row.shard);
      const merged = { ...(i >= 0 ? shards[i]! : emptyShard(row.shard)), ...row };
      if (i >= 0) shards[i] = merged;
      else shards.push(merged);
    }
    const patch: Partial<RunnerStatus> = { shards };
    if (update.phase !== undefined) patch.phase = update.phase;
    if (update.keysDone !== undefined) patch.keysDone = update.keysDone;
    if (update.bytesDone !== undefined) patch.bytesDone = update.bytesDone;
    if (update.event) patch.events = [...job.status.events, update.event];
    this.publish(id, patch);
  }

  fail(id: string, message: string, advice?: string): void {
    const lastError = advice === undefined ? { message } : { message, advice };
    const job = this.require(id);
    this.publish(id, {
      phase: "failed",
      lastError,
      events: [...job.status.events, { ...event("error", message), ...(advice ? { advice } : {}) }],
    });
  }

  private require(id: string): ManualJob {
    const job = this.jobs.get(id);
    if (!job || job.status.phase === "pending") {
      throw new FatalError(`the manual runner does not run job ${id}`, "start the job first");
    }
    return job;
  }

  private publish(id: string, patch: Partial<RunnerStatus>): void {
    const job = this.jobs.get(id);
    if (!job) return;
    job.status = {
      ...job.status,
      ...patch,
      events: (patch.events ?? job.status.events).slice(-50),
      at: now(),
    };
    for (const listener of [...job.listeners]) listener(job.status);
  }
}

function now(): string {
  return new Date().toISOString();
}

function event(level: JobEvent["level"], message: string): JobEvent {
  return { at: now(), level, message };
}

function idle(): RunnerStatus {
  return { phase: "pending", shards: [], keysDone: 0, bytesDone: 0, lastError: null, events: [], at: now() };
}

function emptyShard(shard: string): ShardStatus {
  return {
    shard,
    address: "",
    phase: "connecting",
    replid: null,
    receivedOffset: 0,
    appliedOffset: 0,
    sourceOffset: 0,
    lagBytes: 0,
    lagSeconds: 0,
    opsPerSecond: 0,
    snapshotBytesDone: 0,
    snapshotBytesTotal: null,
    keysDone: 0,
    reconnects: 0,
    lastError: null,
    opsApplied: 0,
    errors: 0,
  };
}

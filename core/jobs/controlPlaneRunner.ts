/**
 * ControlPlaneRunner: the runner of a deployment whose data plane runs elsewhere (the Lambda API of
 * the AWS shape). It starts one replicator task per source master (ReplicatorTasks: ECS RunTask in
 * functions/aws/ecsTasks.ts), stops them (StopTask → SIGTERM → the replicator flushes and exits),
 * and reads status from the heartbeats the replicators write into the job store.
 *
 * `status()` is always null: the job store holds the live progress (the replicators' heartbeats),
 * fresher than anything one Lambda instance could cache. The service therefore only writes the new
 * state on pause and stop, and the replicators reconcile with it: a job paused, finished or deleted
 * stops them within a heartbeat (a graceful stop, like SIGTERM). Cutover, delete and a restart stop
 * the tasks through `tasks.stop` (ECS StopTask → SIGTERM) as well. Without deps (no replicator
 * attached) it runs nothing.
 */
import { FatalError } from "../errors.ts";
import type { JobStore, OffsetStore } from "../ports.ts";
import type { CutoverResult, JobRunner, RunnerStatus, StartOptions } from "./runner.ts";
import type { JobSpec } from "./spec.ts";
import type { StoredStatus } from "./view.ts";

/** One replicator to start: which job, which shard, and (cluster) which master it replicates. */
export interface ReplicatorTask {
  job: string;
  shard: string;
  shardCount: number;
  source?: { host: string; port: number };
}

/** Where replicator processes run (ECS on AWS; child processes in tests). */
export interface ReplicatorTasks {
  /** Starts a replicator; resolves with its task id (ECS: the task ARN). */
  run(task: ReplicatorTask): Promise<string>;
  /** Task ids of the job's replicators that are not stopped yet. */
  running(job: string): Promise<string[]>;
  /** Asks a replicator to stop (SIGTERM): it flushes what it read and exits. */
  stop(taskId: string, reason: string): Promise<void>;
}

/** A source master of a job: `standalone`, or a cluster shard with its master's address. */
export interface SourceShard {
  shard: string;
  source?: { host: string; port: number };
}

export interface ControlPlaneRunnerDeps {
  tasks: ReplicatorTasks;
  store: JobStore<JobSpec, StoredStatus>;
  /** The source's masters (connects to the source: the API runs in the same VPC). */
  sourceShards(spec: JobSpec): Promise<SourceShard[]>;
  /** Removes the job's markers from the target (delete). */
  removeMarkers?(id: string, spec: JobSpec): Promise<number>;
  offsets?: OffsetStore;
  /** Store poll while a cutover waits for lag 0. Default 1000 ms. */
  pollMs?: number;
}

export class ControlPlaneRunner implements JobRunner {
  constructor(private readonly deps?: ControlPlaneRunnerDeps) {}

  async start(job: { id: string; spec: JobSpec }, _opts: StartOptions): Promise<void> {
    const deps = this.deps;
    if (!deps) return;
    // A replicator of an earlier run may still be flushing (SIGTERM gives it up to 120 s): ask it
    // to stop. Running side by side for a moment is safe — both read the same history, and the
    // target's marker drops what arrives twice.
    for (const task of await deps.tasks.running(job.id)) await deps.tasks.stop(task, "job restarted");
    const shards = await deps.sourceShards(job.spec);
    if (shards.length === 0)
      throw new FatalError(
        `the source of ${job.id} has no masters`,
        "check the source URL and its cluster state",
      );
    for (const shard of shards) {
      await deps.tasks.run({
        job: job.id,
        shard: shard.shard,
        shardCount: shards.length,
        ...(shard.source ? { source: shard.source } : {}),
      });
    }
  }

  async pause(id: string): Promise<void> {
    await this.stopTasks(id, "job paused");
  }

  async resume(id: string): Promise<void> {
    const job = await this.deps?.store.get(id);
    if (!job) throw new FatalError(`job ${id} not found`, "create it again");
    await this.start({ id, spec: job.spec }, { resume: true });
  }

  async stop(id: string): Promise<void> {
    await this.stopTasks(id, "job stopped");
  }

  /** Waits until two fresh heartbeats in a row show every shard streaming with lag 0. */
  async cutover(id: string, opts: { timeoutMs: number }): Promise<CutoverResult> {
    const deps = this.deps;
    if (!deps) {
      throw new FatalError(
        `cutover of ${id} needs a running replicator, and this deployment has none attached to the API`,
        "stop writes to the source, watch lag reach 0 on the job, then stop the job",
      );
    }
    const requested = new Date().toISOString();
    const deadline = Date.now() + opts.timeoutMs;
    let seen: string | null = null;
    let streak = 0;
    let offsets: Record<string, number> = {};
    while (Date.now() < deadline) {
      const progress = (await deps.store.get(id))?.status.progress ?? null;
      if (progress) {
        offsets = Object.fromEntries(progress.shards.map((s) => [s.shard, s.appliedOffset]));
        // Only heartbeats written after the request count, each once.
        if (progress.at > requested && progress.at !== seen) {
          seen = progress.at;
          const caughtUp =
            progress.shards.length > 0 &&
            progress.shards.every((s) => s.phase === "streaming" && s.lagBytes === 0 && s.sourceOffset > 0);
          streak = caughtUp ? streak + 1 : 0;
          if (streak >= 2) return { synced: true, offsets };
        }
      }
      await new Promise((r) => setTimeout(r, deps.pollMs ?? 1000));
    }
    return { synced: false, offsets };
  }

  async remove(id: string): Promise<number> {
    const deps = this.deps;
    if (!deps) return 0;
    await this.stopTasks(id, "job deleted");
    const job = await deps.store.get(id);
    if (!job) return 0;
    for (const shard of job.status.progress?.shards ?? []) await deps.offsets?.reset(id, shard.shard);
    return deps.removeMarkers ? deps.removeMarkers(id, job.spec) : 0;
  }

  status(): RunnerStatus | null {
    return null;
  }

  /** Phases reach the job store from the replicators' heartbeats, not through the service. */
  subscribe(): () => void {
    return () => undefined;
  }

  /** The replicators are not this process's children: they keep running. */
  async close(): Promise<void> {}

  private async stopTasks(id: string, reason: string): Promise<void> {
    if (!this.deps) return;
    for (const task of await this.deps.tasks.running(id)) await this.deps.tasks.stop(task, reason);
  }
}

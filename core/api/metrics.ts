/**
 * Per job and shard gauges for GET /metrics, read from the service at scrape time (no timers, and
 * a deleted job's series disappear with it). Names use the `ferry_job_` prefix so they sit beside
 * the sync runtime's own counters (core/observability/metrics.ts) in one registry without clashing.
 */
import { Gauge, type Registry } from "prom-client";
import type { ShardStatus } from "../jobs/runner.ts";
import type { JobService } from "../jobs/service.ts";
import { JOB_STATES } from "../jobs/stateMachine.ts";

const SHARD_GAUGES = {
  ferry_job_applied_ops: ["Commands applied to the target", (s) => s.opsApplied],
  ferry_job_applied_offset: ["Source replication offset applied on the target", (s) => s.appliedOffset],
  ferry_job_snapshot_bytes: ["RDB bytes received", (s) => s.snapshotBytesDone],
  ferry_job_lag_bytes: ["Source offset minus applied offset", (s) => s.lagBytes],
  ferry_job_lag_seconds: ["Age of the oldest unapplied byte", (s) => s.lagSeconds],
  ferry_job_reconnects: ["Reconnections to the source", (s) => s.reconnects],
  ferry_job_errors: ["Errors seen (retried or not)", (s) => s.errors],
} as const satisfies Record<string, readonly [string, (s: ShardStatus) => number]>;

/** Registers the gauges on `registry`; each scrape lists up to `maxJobs` jobs. */
export function registerJobMetrics(registry: Registry, service: JobService, maxJobs = 500): void {
  let scrape: Promise<Awaited<ReturnType<JobService["list"]>>["jobs"]> | null = null;
  // One scrape collects every gauge: list the jobs once, not once per gauge.
  const jobs = () => {
    scrape ??= service.list({ limit: maxJobs }).then((page) => page.jobs);
    const current = scrape;
    setImmediate(() => {
      if (scrape === current) scrape = null;
    });
    return current;
  };
  new Gauge({
    name: "ferry_job_state",
    help: "1 for the job's current state",
    labelNames: ["job", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const job of await jobs()) {
        for (const state of JOB_STATES) this.set({ job: job.id, state }, job.state === state ? 1 : 0);
      }
    },
  });
  for (const [name, [help, read]] of Object.entries(SHARD_GAUGES)) {
    new Gauge({
      name,
      help,
      labelNames: ["job", "shard"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const job of await jobs()) {
          for (const shard of job.progress.shards) this.set({ job: job.id, shard: shard.shard }, read(shard));
        }
      },
    });
  }
}

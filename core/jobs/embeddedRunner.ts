/**
 * The embedded JobRunner (`ferry serve`): runs each API job as a SyncJob in this process.
 *
 * Pause = a graceful stop (stop reading, drain into the target; the markers hold the offsets);
 * resume = a new SyncJob on the same job id, which finds its markers and continues by PSYNC
 * (`+CONTINUE` while the source's backlog still covers the pause).
 */
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import type { Registry } from "prom-client";
import { parseRedisUrl, redactUrl } from "../connect/url.ts";
import { BadInputError, FatalError, FerryError } from "../errors.ts";
import { type FilterSpec, FilterSpecSchema } from "../filters/index.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { createMetrics, type FerryMetrics } from "../observability/metrics.ts";
import type {
  CutoverResult,
  JobEvent,
  JobRunner,
  RunnerStatus,
  StartOptions,
  StatusListener,
} from "./runner.ts";
import type { Endpoint, JobSpec } from "./spec.ts";
import { type EndpointConfig, SYNC_DEFAULTS, type SyncConfig } from "./syncConfig.ts";
import { SyncJob, type SyncStatus } from "./syncJob.ts";

const MAX_EVENTS = 200;
const PUBLISH_EVERY_MS = 500;

interface RunningJob {
  spec: JobSpec;
  sync: SyncJob | null;
  run: Promise<unknown> | null;
  /** What the job was doing before a pause; null while it runs. */
  paused: boolean;
  stopped: boolean;
  failed: { message: string; advice?: string } | null;
  events: JobEvent[];
  timer: NodeJS.Timeout | null;
  last: RunnerStatus | null;
}

export function createEmbeddedRunner(opts: { registry: Registry; log: Logger; stateDir: string }): JobRunner {
  return new EmbeddedRunner(opts.log, createMetrics(opts.registry));
}

export class EmbeddedRunner implements JobRunner {
  private readonly jobs = new Map<string, RunningJob>();
  private readonly listeners = new Map<string, Set<StatusListener>>();

  constructor(
    private readonly log: Logger,
    private readonly metrics: FerryMetrics,
  ) {}

  async start(job: { id: string; spec: JobSpec }, opts: StartOptions): Promise<void> {
    const existing = this.jobs.get(job.id);
    if (existing?.sync && !existing.paused && !existing.stopped && !existing.failed) return;
    const entry: RunningJob = existing ?? {
      spec: job.spec,
      sync: null,
      run: null,
      paused: false,
      stopped: false,
      failed: null,
      events: [],
      timer: null,
      last: null,
    };
    entry.spec = job.spec;
    this.jobs.set(job.id, entry);
    this.event(entry, "info", opts.resume ? "resuming from the target's markers" : "starting");
    await this.launch(job.id, entry);
  }

  private async launch(id: string, entry: RunningJob): Promise<void> {
    entry.paused = false;
    entry.stopped = false;
    entry.failed = null;
    // The previous (paused) SyncJob reports "stopped": it must not be published as this run's phase.
    entry.sync = null;
    const log = this.jobLogger(id, entry);
    try {
      const { config, filters } = syncConfigFromSpec(id, entry.spec);
      entry.sync = await SyncJob.open({ config, filters, log, metrics: this.metrics });
    } catch (err) {
      this.fail(entry, err);
      this.publish(id);
      throw err;
    }
    entry.run = entry.sync.run().then(
      () => {
        if (!entry.paused) entry.stopped = true;
        this.publish(id);
      },
      (err: unknown) => {
        this.fail(entry, err);
        this.publish(id);
      },
    );
    entry.timer ??= setInterval(() => this.publish(id), PUBLISH_EVERY_MS);
    entry.timer.unref();
    this.publish(id);
  }

  async pause(id: string): Promise<void> {
    const entry = this.require(id);
    entry.paused = true;
    await entry.sync?.stop();
    await entry.run;
    this.event(entry, "info", "paused: offsets recorded on the target");
    this.publish(id);
  }

  async resume(id: string): Promise<void> {
    const entry = this.require(id);
    this.event(entry, "info", "resuming from the target's markers");
    await this.launch(id, entry);
  }

  async stop(id: string): Promise<void> {
    const entry = this.require(id);
    entry.paused = false;
    await entry.sync?.stop();
    await entry.run;
    entry.stopped = true;
    this.event(entry, "info", "stopped");
    this.finish(id, entry);
  }

  async cutover(id: string, opts: { timeoutMs: number }): Promise<CutoverResult> {
    const entry = this.require(id);
    const deadline = Date.now() + opts.timeoutMs;
    this.event(entry, "info", "cutover: waiting until the target has every write of the source");
    let streak = 0;
    while (Date.now() < deadline) {
      const status = entry.sync?.status();
      if (!status || entry.failed) break;
      const caughtUp =
        status.shards.length > 0 &&
        status.shards.every((s) => s.phase === "streaming" && s.lagBytes === 0 && s.sourceOffset > 0);
      // Two polls a source-poll interval apart: a write issued just before the cutover call shows.
      streak = caughtUp ? streak + 1 : 0;
      if (streak >= 6) {
        const offsets = Object.fromEntries(status.shards.map((s) => [s.shard, s.appliedOffset]));
        this.event(entry, "info", "cutover: synced (lag 0); point the application at the target");
        return { synced: true, offsets };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const status = entry.sync?.status();
    return {
      synced: false,
      offsets: Object.fromEntries((status?.shards ?? []).map((s) => [s.shard, s.appliedOffset])),
    };
  }

  async remove(id: string): Promise<number> {
    const entry = this.jobs.get(id);
    let spec = entry?.spec;
    if (entry?.sync && !entry.stopped && !entry.failed) {
      entry.paused = false;
      await entry.sync.stop();
      await entry.run;
    }
    if (!spec) return 0;
    const { config } = syncConfigFromSpec(id, spec);
    const removed = await SyncJob.removeMarkers(config);
    if (entry) this.finish(id, entry);
    this.jobs.delete(id);
    spec = undefined;
    return removed;
  }

  status(id: string): RunnerStatus | null {
    const entry = this.jobs.get(id);
    return entry ? this.snapshot(entry) : null;
  }

  subscribe(id: string, listener: StatusListener): () => void {
    // The service subscribes before it calls start(): listeners are kept per id, job or not.
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.jobs.entries()]
        .filter(([, e]) => e.sync && !e.paused && !e.stopped && !e.failed)
        .map(([id]) => this.pause(id).catch(() => {})),
    );
    for (const entry of this.jobs.values()) if (entry.timer) clearInterval(entry.timer);
  }

  private require(id: string): RunningJob {
    const entry = this.jobs.get(id);
    if (!entry) throw new FatalError(`job ${id} is not running in this process`, "start or resume it first");
    return entry;
  }

  private finish(id: string, entry: RunningJob): void {
    this.publish(id);
    if (entry.timer) clearInterval(entry.timer);
    entry.timer = null;
  }

  private fail(entry: RunningJob, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    entry.failed = err instanceof FerryError && err.advice ? { message, advice: err.advice } : { message };
    this.event(entry, "error", message, err instanceof FerryError ? err.advice : undefined);
  }

  private event(entry: RunningJob, level: JobEvent["level"], message: string, advice?: string): void {
    entry.events.push({ at: new Date().toISOString(), level, message, ...(advice ? { advice } : {}) });
    if (entry.events.length > MAX_EVENTS) entry.events.splice(0, entry.events.length - MAX_EVENTS);
  }

  private snapshot(entry: RunningJob): RunnerStatus {
    const sync: SyncStatus | undefined = entry.sync?.status();
    const applied = (shard: string) => metricValue(this.metrics, shard, entry.sync?.job ?? "");
    return {
      phase: runnerPhase(entry, sync),
      shards: (sync?.shards ?? []).map((s) => ({
        ...s,
        opsApplied: applied(s.shard),
        errors: s.lastError ? 1 : 0,
      })),
      keysDone: sync?.totals.keysDone ?? 0,
      bytesDone: sync?.totals.snapshotBytesDone ?? 0,
      lastError: entry.failed,
      events: [...entry.events],
      at: new Date().toISOString(),
    };
  }

  private publish(id: string): void {
    const entry = this.jobs.get(id);
    if (!entry) return;
    const status = this.snapshot(entry);
    entry.last = status;
    for (const listener of this.listeners.get(id) ?? []) listener(status);
  }

  /** The job's log lines go to the server log and, from info up, to the job's event list. */
  private jobLogger(id: string, entry: RunningJob): Logger {
    const parent = this.log;
    const levels: Record<number, JobEvent["level"]> = { 30: "info", 40: "warn", 50: "error", 60: "error" };
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString("utf8").split("\n")) {
          if (!line) continue;
          const record = JSON.parse(line) as Record<string, unknown>;
          const level = levels[Number(record["level"])];
          const { level: _l, time: _t, msg, ...fields } = record;
          if (level) this.event(entry, level, String(msg ?? ""));
          parent[level ?? "debug"]({ job: id, ...fields }, String(msg ?? ""));
        }
        done();
      },
    });
    return createLogger({ format: "json", level: "info", destination: sink });
  }
}

function runnerPhase(entry: RunningJob, sync: SyncStatus | undefined): RunnerStatus["phase"] {
  if (entry.failed) return "failed";
  if (entry.paused) return "paused";
  if (entry.stopped) return "completed";
  switch (sync?.phase) {
    case undefined:
    case "connecting":
      return "pending";
    case "snapshot":
      return "snapshot";
    case "streaming":
    case "synced":
      return "streaming";
    case "stopping":
    case "stopped":
      // Only stop() (entry.stopped, above) completes a job; a SyncJob that ended otherwise is stopping.
      return "stopping";
    case "failed":
      return "failed";
  }
}

function metricValue(metrics: FerryMetrics, shard: string, job: string): number {
  const series = (
    metrics.appliedCommands as unknown as {
      hashMap?: Record<string, { value: number; labels: Record<string, string> }>;
    }
  ).hashMap;
  if (!series) return 0;
  for (const entry of Object.values(series))
    if (entry.labels["shard"] === shard && entry.labels["job"] === job) return entry.value;
  return 0;
}

/** Resolves a URL or a secret reference where the runner runs. */
export function resolveEndpoint(endpoint: Endpoint, role: "source" | "target"): string {
  if (typeof endpoint === "string") return endpoint;
  const secret = endpoint.secret;
  if ("env" in secret) {
    const value = process.env[secret.env];
    if (!value)
      throw new BadInputError(
        `the ${role} secret env var ${secret.env} is not set in the ferry serve process`,
      );
    return value.trim();
  }
  if ("file" in secret) {
    try {
      return readFileSync(secret.file, "utf8").trim();
    } catch (err) {
      throw new BadInputError(
        `cannot read the ${role} secret file ${secret.file}: ${(err as Error).message}`,
      );
    }
  }
  throw new BadInputError(
    `the ${role} is an AWS secret reference, which the embedded runner cannot read`,
    "use an env or file secret with `ferry serve`, or deploy the AWS shape (README: Deploy to AWS)",
  );
}

export function syncConfigFromSpec(id: string, spec: JobSpec): { config: SyncConfig; filters: FilterSpec } {
  const endpoint = (e: Endpoint, role: "source" | "target"): EndpointConfig => {
    const url = resolveEndpoint(e, role);
    const { tlsEnabled, ...parsed } = parseRedisUrl(url, { env: {} });
    if (tlsEnabled) {
      parsed.tls = {
        ...(parsed.tls ?? {}),
        ...(spec.tls?.ca ? { ca: Buffer.from(spec.tls.ca) } : {}),
        ...(spec.tls?.insecure ? { insecure: true } : {}),
      };
    }
    return { ...parsed, display: redactUrl(url) };
  };
  const filters = FilterSpecSchema.parse(spec.filters ?? {});
  const config: SyncConfig = {
    ...SYNC_DEFAULTS,
    batch: { ...SYNC_DEFAULTS.batch },
    backoff: { ...SYNC_DEFAULTS.backoff },
    job: id,
    source: endpoint(spec.source, "source"),
    target: endpoint(spec.target, "target"),
    mode: spec.mode,
    psyncCommand: spec.psyncCommand ?? SYNC_DEFAULTS.psyncCommand,
    bigKeyThreshold: spec.bigKeyThreshold ?? SYNC_DEFAULTS.bigKeyThreshold,
  };
  if (spec.dbMap) config.dbMap = new Map(Object.entries(spec.dbMap).map(([from, to]) => [Number(from), to]));
  if (spec.maxOps) config.maxOps = spec.maxOps;
  if (spec.maxBytes) config.maxBytesPerSecond = spec.maxBytes;
  return { config, filters };
}

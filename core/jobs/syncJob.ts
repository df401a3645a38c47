/**
 * A whole migration on the embedded runtime: one ShardSync per source master, one bounded memory
 * queue, apply loops writing to the target through the exactly-once writer.
 *
 * Lifecycle: open() connects and inspects both sides (fails fast with a clear message); run()
 * replicates until stop(), until synced (`untilSynced`, `full-only`), or a fatal error; stop()
 * stops reading, lets the queue drain into the target, and closes everything.
 */
import type { Redis } from "ioredis";
import { MemoryBatchQueue } from "../adapters/memory/batchQueue.ts";
import { builtinCommandTable, loadCommandTable } from "../commands/index.ts";
import type { CommandTable } from "../commands/table.ts";
import { connectRedis, detectTopology, formatAddress } from "../connect/index.ts";
import { BadInputError, FatalError, FerryError } from "../errors.ts";
import { compileFilter, type Filter, type FilterSpec } from "../filters/index.ts";
import type { ShardProgress } from "../model.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type FerryMetrics } from "../observability/metrics.ts";
import { type ApplyLoop, startApplyLoop } from "../pipeline/applyLoop.ts";
import { startSourceOffsetPoller } from "../pipeline/lag.ts";
import { RateLimiter } from "../pipeline/rateLimiter.ts";
import { exportFilterMetrics } from "../readers/filterMetrics.ts";
import { ScanReader, type ScanReaderTuning } from "../readers/scan/scanReader.ts";
import type { ReaderStatus, SourceMode, SourceReader } from "../readers/types.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { type TargetInfo, targetInfoFromInfo } from "../snapshot/target.ts";
import { ClusterWriter } from "../writer/cluster.ts";
import { createStandaloneWriter, type StandaloneWriter } from "../writer/standalone.ts";
import type { TargetWriter } from "../writer/types.ts";
import { followSourceFailovers } from "./clusterSource.ts";
import { ShardSync } from "./shardSync.ts";
import { SlotHandoff } from "./slotHandoff.ts";
import type { SyncConfig } from "./syncConfig.ts";

export interface SyncJobOptions {
  config: SyncConfig;
  filters?: FilterSpec;
  log: Logger;
  metrics?: FerryMetrics;
  /** `psync` (default): replica emulation; `scan`: SCAN + keyspace notifications (core/readers). */
  sourceMode?: SourceMode;
  scanTuning?: ScanReaderTuning;
}

export interface SyncStatus {
  job: string;
  phase: "connecting" | "snapshot" | "streaming" | "synced" | "stopping" | "stopped" | "failed";
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

interface SourceShard {
  id: string;
  endpoint: RedisEndpoint;
  /** Cluster node id of the master (cluster sources). */
  nodeId?: string;
}

export class SyncJob {
  private readonly shards: ShardSync[] = [];
  private readonly queue: MemoryBatchQueue;
  private loops: ApplyLoop[] = [];
  private pollers: Array<{ stop(): void; poll(): Promise<void> }> = [];
  private readonly pollClients: Redis[] = [];
  private phase: SyncStatus["phase"] = "connecting";
  private readonly errors: string[] = [];
  private stopping: Promise<void> | null = null;
  private readonly startedAt = new Date();
  private synced = false;

  private constructor(
    private readonly opts: SyncJobOptions,
    readonly metrics: FerryMetrics,
    private readonly writer: TargetWriter,
    private readonly filter: Filter,
    private readonly sourceShards: SourceShard[],
    private readonly commandTable: CommandTable,
    private readonly target: TargetInfo,
    private readonly targetIsCluster: boolean,
  ) {
    this.queue = new MemoryBatchQueue({ maxBytes: opts.config.queueBytes });
  }

  /** Connects to both sides and checks what can be known before the first byte is copied. */
  static async open(opts: SyncJobOptions): Promise<SyncJob> {
    const { config, log } = opts;
    const metrics = opts.metrics ?? createMetrics();
    const sourceClient = await connectRedis(config.source, { name: "ferry-inspect" }).catch(naming("source"));
    // An open connection keeps the process alive: a target that cannot be reached must not leave
    // the source's inspection client behind (the CLI would print the error and never exit).
    const targetClient = await connectRedis(config.target, { name: "ferry-inspect" }).catch(
      (err: unknown) => {
        sourceClient.disconnect();
        return naming("target")(err);
      },
    );
    try {
      const sourceTopology = await detectTopology(sourceClient, config.source);
      const targetTopology = await detectTopology(targetClient, config.target);
      const targetIsCluster = targetTopology.kind === "cluster";
      const target = targetInfoFromInfo(await targetClient.info("server"));
      const commandTable = await loadCommandTable(targetClient).catch(() => builtinCommandTable);

      const sourceShards: SourceShard[] =
        sourceTopology.kind === "standalone"
          ? [{ id: "standalone", endpoint: config.source }]
          : sourceTopology.masters.map((m) => ({
              // Slots identify a shard across failovers (a promoted replica has another node id).
              id: `slots-${m.slots[0]?.[0] ?? 0}-${m.slots[0]?.[1] ?? 0}`,
              endpoint: { ...config.source, host: m.endpoint.host, port: m.endpoint.port },
              nodeId: m.id,
            }));

      const spec: FilterSpec = { ...(opts.filters ?? {}) } as FilterSpec;
      if (config.dbMap && !spec.dbMap) spec.dbMap = Object.fromEntries(config.dbMap);
      if (targetIsCluster) await checkClusterDbs(sourceClient, sourceTopology.kind === "cluster", spec);

      const filter = compileFilter(spec, {
        onFirstDrop: (e) =>
          log.warn(
            { command: e.command, reason: e.reason, db: e.db },
            e.command.startsWith("FLUSH")
              ? `dropping ${e.command} from the source (the target keeps its data); pass --keep-flush to apply it`
              : `dropping ${e.command} from the source (${e.reason} filter)`,
          ),
      });

      const writer = await openWriter(config, targetIsCluster, commandTable, log);
      log.info(
        {
          job: config.job,
          source: config.source.display,
          sourceShards: sourceShards.length,
          target: config.target.display,
          targetCluster: targetIsCluster,
          targetVersion: `${target.flavor} ${target.version}`,
        },
        "connected to source and target",
      );
      return new SyncJob(opts, metrics, writer, filter, sourceShards, commandTable, target, targetIsCluster);
    } finally {
      sourceClient.disconnect();
      targetClient.disconnect();
    }
  }

  get job(): string {
    return this.opts.config.job;
  }

  /** Removes a job's markers from the target without running it (`DELETE /v1/jobs/{id}`). */
  static async removeMarkers(config: SyncConfig): Promise<number> {
    const client = await connectRedis(config.target, { name: "ferry-cleanup" });
    let targetIsCluster: boolean;
    try {
      targetIsCluster = (await detectTopology(client, config.target)).kind === "cluster";
    } finally {
      client.disconnect();
    }
    const writer = await openWriter(config, targetIsCluster, builtinCommandTable);
    try {
      return await writer.removeMarkers(config.job);
    } finally {
      await writer.close();
    }
  }

  /** Replicates until stop(), until synced (untilSynced / full-only), or a fatal error (rejects). */
  run(): Promise<SyncStatus> {
    const running = this.replicate().catch(async (err: unknown) => {
      // Failures before the shards run (a read-only or full target refusing the first write, a lag
      // poller that cannot connect) must still close the writer and pollers, or the process hangs.
      if (this.phase !== "failed") {
        this.phase = "failed";
        this.errors.push(err instanceof Error ? err.message : String(err));
      }
      await this.shutdown(false);
      throw err;
    });
    this.finished = running.then(
      () => {},
      () => {},
    );
    return running;
  }

  private finished: Promise<void> = Promise.resolve();

  private async replicate(): Promise<SyncStatus> {
    const { config, log } = this.opts;
    await this.recordTargetEmptiness();
    if (this.opts.sourceMode === "scan") return this.replicateWithScan();
    const filterMetrics = exportFilterMetrics(this.filter, this.metrics, config.job);
    this.stopFilterMetrics = () => filterMetrics.stop();
    const limiter =
      config.maxOps || config.maxBytesPerSecond
        ? new RateLimiter({
            ...(config.maxOps ? { opsPerSecond: config.maxOps } : {}),
            ...(config.maxBytesPerSecond ? { bytesPerSecond: config.maxBytesPerSecond } : {}),
          })
        : undefined;
    const handoff = this.sourceShards[0]?.nodeId
      ? new SlotHandoff({
          shards: () =>
            this.shards.map((s, i) => ({
              id: this.sourceShards[i]!.id,
              handedOffset: () => s.handedOffset,
              appliedOffset: () => s.lag.snapshot().appliedOffset,
            })),
        })
      : undefined;
    for (const source of this.sourceShards) {
      this.shards.push(
        new ShardSync({
          job: config.job,
          shard: source.id,
          endpoint: source.endpoint,
          config,
          queue: this.queue,
          filter: this.filter,
          commandTable: this.commandTable,
          target: this.target,
          log,
          metrics: this.metrics,
          readMarker: () => this.writer.readMarker(config.job, source.id),
          beforeResnapshot: (reason) => this.beforeResnapshot(reason),
          ...(handoff ? { handoff } : {}),
        }),
      );
    }
    const byShard = new Map(this.shards.map((s, i) => [this.sourceShards[i]!.id, s]));
    const loopCount = Math.min(4, this.shards.length);
    for (let i = 0; i < loopCount; i++) {
      this.loops.push(
        startApplyLoop({
          queue: this.queue,
          writer: this.writer,
          ...(limiter ? { limiter } : {}),
          onApplied: (batch, result) => byShard.get(batch.shard)?.onApplied(batch, result),
          onRetry: (batch, err) => {
            this.metrics.errors.inc({ job: config.job, shard: batch.shard, kind: "retryable" });
            log.warn({ shard: batch.shard, error: (err as Error).message }, "target write failed; retrying");
          },
        }),
      );
    }
    await this.startPollers();
    await this.followFailovers();
    this.phase = "snapshot";

    // Shard runs and apply loops only settle on their own when something fatal happened.
    const never = new Promise<void>(() => {});
    const running = [...this.shards.map((s) => s.run()), ...this.loops.map((l) => l.done)];
    for (const p of running) p.catch(() => {});
    const fatal = Promise.race(running.map((p) => p.then(() => never)));
    const untilSynced = config.untilSynced || config.mode === "full-only";
    const outcome = Promise.race([fatal, untilSynced ? this.waitSynced() : never, this.stopped]);
    try {
      await outcome;
    } catch (err) {
      this.phase = "failed";
      this.errors.push((err as Error).message);
      await this.shutdown(false);
      throw err;
    }
    await this.shutdown(true);
    return this.status();
  }

  private reader: SourceReader | null = null;
  private stopFilterMetrics: () => void = () => {};

  /** `--source-mode scan`: the reader owns its pipeline; this job connects, stops and reports. */
  private async replicateWithScan(): Promise<SyncStatus> {
    const { config, log } = this.opts;
    const reader = new ScanReader(
      {
        config,
        log,
        metrics: this.metrics,
        writer: this.writer,
        filter: this.filter,
        target: this.target,
        sources: this.sourceShards,
        clusterSource: this.sourceShards[0]?.id !== "standalone",
        targetIsCluster: this.targetIsCluster,
      },
      this.opts.scanTuning,
    );
    this.reader = reader;
    this.phase = "snapshot";
    const run = reader.run();
    try {
      await Promise.race([run, this.stopped.then(() => reader.stop())]);
      await run;
      if (reader.synced) this.synced = true;
    } catch (err) {
      this.phase = "failed";
      this.errors.push((err as Error).message);
      throw err;
    } finally {
      if (config.cleanup && this.phase !== "failed") await this.writer.removeMarkers(this.job);
      await this.writer.close();
    }
    this.phase = this.synced ? "synced" : "stopped";
    return this.status();
  }

  private stopRequested: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => {
    this.stopRequested = resolve;
  });

  /** Graceful stop: stop reading, apply what was read, close. Safe to call more than once. */
  async stop(): Promise<void> {
    this.stopRequested();
    await this.finished;
  }

  private async waitSynced(): Promise<void> {
    // Every shard streams, then catches up with the source offset read at that moment.
    const { log } = this.opts;
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      // A job that failed or stopped meanwhile is never synced; a timer left polling would keep the
      // process alive after the error was reported.
      if (this.stopping) return;
      if (this.shards.every((s) => s.streaming)) break;
    }
    await Promise.all(this.pollers.map((p) => p.poll()));
    await Promise.all(this.shards.map((s) => s.syncedTo(s.progress().sourceOffset)));
    this.synced = true;
    this.phase = "synced";
    log.info({ job: this.job }, "synced: the snapshot is applied and the target caught up with the source");
  }

  private shutdown(drain: boolean): Promise<void> {
    this.stopping ??= (async () => {
      if (this.phase !== "failed") this.phase = "stopping";
      await Promise.allSettled(this.shards.map((s) => s.stop()));
      if (drain) {
        const drained = Promise.all(this.shards.map((s) => s.drained()));
        const failed = Promise.race(this.loops.map((l) => l.done.then(() => new Promise<void>(() => {}))));
        await Promise.race([drained, failed]).catch((err: Error) => {
          this.phase = "failed";
          this.errors.push(err.message);
        });
      }
      await Promise.allSettled(this.loops.map((l) => l.stop()));
      this.topologyWatch?.stop();
      for (const poller of this.pollers) poller.stop();
      this.stopFilterMetrics();
      for (const client of this.pollClients) client.disconnect();
      if (this.opts.config.cleanup && this.phase !== "failed") {
        const removed = await this.writer.removeMarkers(this.job);
        this.opts.log.info({ job: this.job, removed }, "removed the job's markers from the target");
      }
      await this.writer.close();
      if (this.phase !== "failed") this.phase = "stopped";
    })();
    return this.stopping;
  }

  private topologyWatch: { stop(): void } | null = null;

  /** Cluster source: follow failovers (each shard reconnects to the master promoted for its slots). */
  private async followFailovers(): Promise<void> {
    if (this.sourceShards.length === 0 || this.sourceShards[0]!.id === "standalone") return;
    const { log, config } = this.opts;
    this.topologyWatch = await followSourceFailovers({
      seed: config.source,
      shards: this.sourceShards,
      log,
      onSwitch: async (source, to) => {
        const i = this.sourceShards.findIndex((s) => s.id === source.id);
        const shard = this.shards[i];
        if (!shard) return;
        await shard.switchEndpoint(to);
        // The lag poller asks the new master too (psync2 keeps the offsets comparable).
        this.pollers[i]?.stop();
        this.pollClients[i]?.disconnect();
        const client = await connectLagClient(to);
        this.pollClients[i] = client;
        this.pollers[i] = startSourceOffsetPoller({
          client,
          onOffset: (offset) => shard.sourceOffset(offset),
          onError: () => {},
        });
      },
    }).catch((err: Error) => {
      log.warn(
        { error: err.message },
        "cannot watch the source topology: source failovers will not be followed",
      );
      return null;
    });
  }

  private async startPollers(): Promise<void> {
    for (const [i, source] of this.sourceShards.entries()) {
      const client = await connectLagClient(source.endpoint);
      this.pollClients.push(client);
      const shard = this.shards[i]!;
      this.pollers.push(
        startSourceOffsetPoller({
          client,
          onOffset: (offset) => shard.sourceOffset(offset),
          onError: () => {},
        }),
      );
    }
  }

  /** Target dbs this job writes to (for the emptiness record and a re-snapshot flush). */
  private mappedDbs(): number[] {
    if (this.targetIsCluster) return [0];
    const map = this.filter.spec.dbMap;
    if (map && Object.keys(map).length > 0) return [...new Set(Object.values(map))];
    return Array.from({ length: 16 }, (_, i) => i);
  }

  private async recordTargetEmptiness(): Promise<void> {
    const writer = this.writer as Partial<StandaloneWriter>;
    if (!writer.emptiness) return;
    const empty = await writer.emptiness.record(this.job, this.mappedDbs());
    if (!empty) {
      this.opts.log.warn(
        { job: this.job },
        "the target already holds keys: keys with the same names are overwritten, others are left alone",
      );
    }
  }

  private async beforeResnapshot(reason: string): Promise<void> {
    const writer = this.writer as Partial<StandaloneWriter>;
    const { log, config } = this.opts;
    const wasEmpty = writer.emptiness ? await writer.emptiness.wasEmpty(this.job) : null;
    if (writer.emptiness && wasEmpty && config.flushOnResnapshot && this.shards.length === 1) {
      await writer.emptiness.flush(this.mappedDbs());
      log.warn(
        { job: this.job },
        `${reason}: flushed the target's dbs (the job found them empty) before the new snapshot`,
      );
      return;
    }
    log.warn(
      { job: this.job },
      `${reason}: keys deleted on the source since the last snapshot may remain on the target ` +
        (this.shards.length > 1
          ? "(a cluster shard cannot flush the target alone); run `ferry verify` afterwards"
          : "(the target was not empty when the job started); run `ferry verify` afterwards"),
    );
  }

  status(): SyncStatus {
    const shards = this.reader ? this.reader.progress() : this.shards.map((s) => s.progress());
    const sum = (f: (s: ShardProgress) => number) => shards.reduce((a, s) => a + f(s), 0);
    const totalKnown = shards.every((s) => s.snapshotBytesTotal !== null);
    let phase = this.phase;
    if (phase === "snapshot" && shards.length > 0 && shards.every((s) => s.phase === "streaming"))
      phase = "streaming";
    if ((this.synced || this.reader?.synced) && phase === "streaming") phase = "synced";
    const counters = this.filter.counters;
    return {
      job: this.job,
      phase,
      source: this.opts.config.source.display,
      target: this.opts.config.target.display,
      startedAt: this.startedAt.toISOString(),
      shards,
      totals: {
        keysDone: sum((s) => s.keysDone),
        snapshotBytesDone: sum((s) => s.snapshotBytesDone),
        snapshotBytesTotal: totalKnown ? sum((s) => s.snapshotBytesTotal ?? 0) : null,
        lagBytes: sum((s) => s.lagBytes),
        lagSeconds: Math.max(0, ...shards.map((s) => s.lagSeconds)),
        opsPerSecond: sum((s) => s.opsPerSecond),
        reconnects: sum((s) => s.reconnects),
        queueBytes: this.reader ? this.reader.queueBytes : this.queue.bytes,
      },
      filtered: {
        keys: counters.filteredKeys,
        commands: Object.values(counters.filteredCommands).reduce((a, b) => a + b, 0),
      },
      errors: [...this.errors],
      ...(this.reader ? { reader: this.reader.status() } : {}),
    };
  }
}

function openWriter(
  config: SyncConfig,
  targetIsCluster: boolean,
  commandTable: CommandTable,
  log?: Logger,
): Promise<TargetWriter> {
  return targetIsCluster
    ? ClusterWriter.connect({
        endpoint: config.target,
        markerPrefix: config.markerPrefix,
        commandTable,
        onWarn: (message) => log?.warn(message),
      })
    : createStandaloneWriter({
        target: config.target,
        markerPrefix: config.markerPrefix,
        markerDb: config.markerDb,
      });
}

/**
 * Connection errors name an address; with two servers in play the user also needs to know which
 * option to fix (and which FERRY_<ROLE>_PASSWORD variable applies).
 */
function naming(role: "source" | "target"): (err: unknown) => never {
  return (err) => {
    if (!(err instanceof FerryError)) throw err;
    const Kind = err.constructor as new (
      message: string,
      advice?: string,
      options?: ErrorOptions,
    ) => FerryError;
    const advice = err.advice?.replace("FERRY_*_", `FERRY_${role.toUpperCase()}_`);
    throw new Kind(`--${role}: ${err.message}`, advice, { cause: err });
  };
}

/**
 * A cluster target has only db 0. Source keys in other dbs need an explicit `--db-map`; refusing
 * up front beats failing on the first command with SELECT.
 */
async function checkClusterDbs(source: Redis, sourceIsCluster: boolean, spec: FilterSpec): Promise<void> {
  if (sourceIsCluster) return;
  const keyspace = await source.info("keyspace");
  const dbs = [...keyspace.matchAll(/^db(\d+):keys=(\d+)/gm)].map((m) => Number(m[1]));
  const map = spec.dbMap ?? {};
  const mapped = Object.keys(map).length > 0;
  const unmapped = dbs.filter((db) => (mapped ? !(String(db) in map) : db !== 0));
  const wrongTarget = Object.entries(map).filter(([, to]) => to !== 0);
  if (wrongTarget.length > 0) {
    throw new BadInputError(
      `--db-map maps to db ${wrongTarget.map(([, to]) => to).join(", ")}, but a cluster target only has db 0`,
      "map every source db to 0, e.g. --db-map 0:0,3:0",
    );
  }
  if (!mapped) spec.dbMap = { "0": 0 };
  if (unmapped.length > 0) {
    throw new FatalError(
      `the source has keys in db ${unmapped.join(", ")}, and the cluster target only has db 0`,
      `map them explicitly, e.g. --db-map 0:0,${unmapped.map((d) => `${d}:0`).join(",")} (keys of those dbs then share db 0), or filter them out with --exclude-db ${unmapped.join(",")}`,
    );
  }
}

/**
 * The source-offset poller's connection: it must outlive any source restart or network cut, and
 * must not leave orphaned commands whose 60 s timers keep a stopped process alive.
 */
function connectLagClient(endpoint: RedisEndpoint): Promise<Redis> {
  return connectRedis(endpoint, { name: "ferry-lag", longLived: true });
}

export function shardAddress(endpoint: RedisEndpoint): string {
  return formatAddress(endpoint);
}

/**
 * `ferry sync --source-rdb …`: the one-off restore as a job with the same surface as SyncJob
 * (open → run → status/metrics/stop), so the CLI's progress bar, status port and signal handling
 * work unchanged. Only the target is connected; the job's markers are removed at the end (a rerun
 * starts over, see restore.ts).
 */
import { builtinCommandTable, loadCommandTable } from "../../commands/index.ts";
import { connectRedis, detectTopology } from "../../connect/index.ts";
import { BadInputError } from "../../errors.ts";
import { compileFilter, type Filter, type FilterSpec } from "../../filters/index.ts";
import type { SyncConfig } from "../../jobs/syncConfig.ts";
import type { SyncStatus } from "../../jobs/syncJob.ts";
import type { Logger } from "../../observability/logger.ts";
import { createMetrics, type FerryMetrics } from "../../observability/metrics.ts";
import { targetInfoFromInfo } from "../../snapshot/target.ts";
import { ClusterWriter } from "../../writer/cluster.ts";
import { createStandaloneWriter } from "../../writer/standalone.ts";
import type { TargetWriter } from "../../writer/types.ts";
import type { ReaderStatus } from "../types.ts";
import type { OpenRdbOptions } from "./input.ts";
import { RdbRestore } from "./restore.ts";

export interface RdbRestoreJobOptions {
  /** `config.source` is not used (the RDB replaces it); `source.display` names the file in status. */
  config: SyncConfig;
  location: string;
  filters?: FilterSpec;
  log: Logger;
  metrics?: FerryMetrics;
  input?: OpenRdbOptions;
}

export type RdbJobStatus = SyncStatus & { reader: ReaderStatus };

export class RdbRestoreJob {
  private phase: SyncStatus["phase"] = "connecting";
  private readonly errors: string[] = [];
  private readonly startedAt = new Date();

  private constructor(
    private readonly opts: RdbRestoreJobOptions,
    readonly metrics: FerryMetrics,
    private readonly writer: TargetWriter,
    private readonly restore: RdbRestore,
    private readonly filter: Filter,
  ) {}

  static async open(opts: RdbRestoreJobOptions): Promise<RdbRestoreJob> {
    const { config, log } = opts;
    const metrics = opts.metrics ?? createMetrics();
    const client = await connectRedis(config.target, { name: "ferry-inspect" });
    let writer: TargetWriter;
    let targetIsCluster: boolean;
    let target: ReturnType<typeof targetInfoFromInfo>;
    try {
      targetIsCluster = (await detectTopology(client, config.target)).kind === "cluster";
      target = targetInfoFromInfo(await client.info("server"));
      const commandTable = await loadCommandTable(client).catch(() => builtinCommandTable);
      writer = targetIsCluster
        ? await ClusterWriter.connect({
            endpoint: config.target,
            markerPrefix: config.markerPrefix,
            commandTable,
            onWarn: (message) => log.warn(message),
          })
        : await createStandaloneWriter({
            target: config.target,
            markerPrefix: config.markerPrefix,
            markerDb: config.markerDb,
          });
    } finally {
      client.disconnect();
    }
    const spec: FilterSpec = { ...(opts.filters ?? {}) } as FilterSpec;
    if (config.dbMap && !spec.dbMap) spec.dbMap = Object.fromEntries(config.dbMap);
    if (targetIsCluster && spec.dbMap && Object.values(spec.dbMap).some((db) => db !== 0)) {
      writer.close().catch(() => {});
      throw new BadInputError(
        "--db-map maps to a db other than 0, but a cluster target only has db 0",
        "map every source db to 0, e.g. --db-map 0:0,3:0",
      );
    }
    const filter = compileFilter(spec);
    const restore = new RdbRestore({
      location: opts.location,
      config,
      log,
      metrics,
      writer,
      filter,
      target,
      targetIsCluster,
      ...(opts.input ? { input: opts.input } : {}),
    });
    return new RdbRestoreJob(opts, metrics, writer, restore, filter);
  }

  get job(): string {
    return this.opts.config.job;
  }

  /** Restores the whole file (or until stop()); rejects with the error that ended it. */
  async run(): Promise<RdbJobStatus> {
    this.phase = "snapshot";
    try {
      await this.restore.run();
      this.phase = this.restore.synced ? "synced" : "stopped";
    } catch (err) {
      this.phase = "failed";
      this.errors.push((err as Error).message);
      throw err;
    } finally {
      // Markers of a one-off restore have nothing to resume: leave no trace on the target.
      await this.writer.removeMarkers(this.job).catch(() => 0);
      await this.writer.close();
    }
    return this.status();
  }

  stop(): Promise<void> {
    return this.restore.stop();
  }

  status(): RdbJobStatus {
    const shards = this.restore.progress();
    const shard = shards[0]!;
    const counters = this.filter.counters;
    const reader = this.restore.status();
    return {
      job: this.job,
      phase: this.phase,
      source: shard.address,
      target: this.opts.config.target.display,
      startedAt: this.startedAt.toISOString(),
      shards,
      totals: {
        keysDone: shard.keysDone,
        snapshotBytesDone: shard.snapshotBytesDone,
        snapshotBytesTotal: shard.snapshotBytesTotal,
        lagBytes: 0,
        lagSeconds: 0,
        opsPerSecond: 0,
        reconnects: 0,
        queueBytes: this.restore.queueBytes,
      },
      filtered: {
        keys: counters.filteredKeys,
        commands: Object.values(counters.filteredCommands).reduce((a, b) => a + b, 0),
      },
      errors: [...this.errors],
      reader,
    };
  }
}

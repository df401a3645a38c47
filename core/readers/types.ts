/**
 * What the sync runtime (core/jobs/syncJob.ts) hands a non-PSYNC reader, and what it gets back.
 * A reader owns its pipeline (batcher → memory queue → apply loops) end to end; the runtime only
 * connects, chooses the reader, and reports its status.
 */
import type { Filter } from "../filters/filter.ts";
import type { SyncConfig } from "../jobs/syncConfig.ts";
import type { ShardProgress } from "../model.ts";
import type { Logger } from "../observability/logger.ts";
import type { FerryMetrics } from "../observability/metrics.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import type { TargetInfo } from "../snapshot/target.ts";
import type { TargetWriter } from "../writer/types.ts";
import type { RdbRestoreStatus } from "./rdbFile/restore.ts";
import type { ScanShardStatus } from "./scan/scanShard.ts";

/** `--source-mode`: replica emulation (default) or SCAN + keyspace notifications. */
export type SourceMode = "psync" | "scan";

export interface ReaderContext {
  config: SyncConfig;
  log: Logger;
  metrics: FerryMetrics;
  writer: TargetWriter;
  filter: Filter;
  target: TargetInfo;
  /** One per source master (a standalone source: one). */
  sources: Array<{ id: string; endpoint: RedisEndpoint }>;
  clusterSource: boolean;
  /** The target is a cluster (scan mode's delete reconciliation needs a standalone target). */
  targetIsCluster?: boolean;
}

export type ReaderStatus = { mode: "scan"; shards: ScanShardStatus[] } | ({ mode: "rdb" } & RdbRestoreStatus);

export interface SourceReader {
  /**
   * Copies until stop(), until synced (config.untilSynced), or — for a one-off reader (RDB file) —
   * until the input is applied. Rejects with the fatal error that ended it.
   */
  run(): Promise<void>;
  /** Stop reading, apply what was read, resolve when run() has settled. */
  stop(): Promise<void>;
  progress(): ShardProgress[];
  status(): ReaderStatus;
  /** True once the first full copy is applied and nothing is pending. */
  readonly synced: boolean;
  /** Bytes waiting in the reader's queue. */
  readonly queueBytes: number;
}

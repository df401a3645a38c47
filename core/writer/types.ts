import type { Batch } from "../model.ts";

/** Where a shard stands on the target, as read from its exactly-once marker. */
export interface MarkerState {
  replid: string;
  /** Last applied stream offset, or the FULLRESYNC offset while a snapshot is being applied. */
  offset: number;
  /** Set while a snapshot is being applied: last applied snapshot seq. */
  seq?: number;
  /** Source db current at `offset` (SELECT is not re-sent after +CONTINUE). */
  db: number;
}

export interface ApplyResult {
  /** Commands actually applied (those at or below the marker were dropped as already applied). */
  applied: number;
  skipped: number;
  marker: MarkerState;
}

/**
 * Applies batches to the target exactly once (DESIGN.md): reads the shard's marker, drops commands
 * already applied, then applies the rest in MULTI…EXEC together with the marker update. Implemented
 * for standalone (core/writer/standalone) and cluster targets (core/writer/cluster).
 */
export interface TargetWriter {
  apply(batch: Batch): Promise<ApplyResult>;
  readMarker(job: string, shard: string): Promise<MarkerState | null>;
  /** Remove a job's markers (job completed/deleted, `ferry sync --cleanup`). */
  removeMarkers(job: string): Promise<number>;
  close(): Promise<void>;
}

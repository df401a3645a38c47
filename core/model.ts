/**
 * The data that flows through ferry, shared by every stage of DESIGN.md's pipeline:
 *   ReplicaSession → RdbStream / CommandStream → Batcher → BatchQueue → Writer.
 * Keys and values are Buffers end to end (binary-safe); nothing on the data path decodes them.
 */

/** Identifies one source shard (one source master) of one job. */
export interface ShardRef {
  job: string;
  /** Stable shard id: `standalone` for a standalone source, the master's node id (or address) for a cluster. */
  shard: string;
}

/**
 * Position of a command in a shard's replication history.
 * - `stream`: `offset` is the master's replication offset at the END of the command (the byte after
 *   its last byte), as Redis counts it, so `REPLCONF ACK <offset>` can be sent as is.
 * - `snapshot`: commands produced from the RDB of a full resync; `offset` is the master offset that
 *   `+FULLRESYNC` announced and `seq` numbers the snapshot commands 1, 2, 3… so replays are detectable.
 */
export interface Position {
  replid: string;
  offset: number;
  /** Only for snapshot commands: 1-based sequence within the snapshot. */
  seq?: number;
}

/** One command to apply on the target, in the db it was issued in on the source. */
export interface Command {
  argv: Buffer[];
  db: number;
  /** End offset in the source's replication stream; for snapshot commands the FULLRESYNC offset. */
  offset: number;
  /** Snapshot commands only: 1-based sequence within the snapshot (see Position). */
  seq?: number;
  /**
   * Commands of one source MULTI…EXEC share a txn id; the writer applies them in one transaction.
   * The MULTI/EXEC frames themselves are not included in argv form.
   */
  txn?: number;
}

/** A sealed group of consecutive commands of one shard, the unit of queueing and of exactly-once apply. */
export interface Batch extends ShardRef {
  replid: string;
  kind: "snapshot" | "stream";
  /** Offset (stream) or seq (snapshot) of the first and last command. */
  first: number;
  last: number;
  /** For a snapshot batch, the FULLRESYNC offset the snapshot belongs to. */
  snapshotOffset?: number;
  commands: Command[];
  /** Approximate encoded size, used by queue bounds and batch caps. */
  bytes: number;
  /**
   * Source db current at `last` (the marker records it: SELECT is not re-sent after +CONTINUE).
   * Needed because a batch may end with SELECT/PING bytes after its last command, or hold none.
   * Absent: the db of the last command (or the marker's db when the batch is empty).
   */
  endDb?: number;
  /**
   * Stream batches: the offset this batch continues from (the previous batch's `last`, or the
   * +CONTINUE / FULLRESYNC offset for the first). The writer refuses a batch whose predecessor is
   * not applied yet, so a lost or reordered batch is retried instead of skipped for good.
   */
  after?: number;
}

/** Progress counters reported by a shard's pipeline (status endpoint, /metrics, API, console). */
export interface ShardProgress {
  shard: string;
  address: string;
  phase: "connecting" | "snapshot" | "streaming" | "paused" | "stopped" | "failed";
  replid: string | null;
  /** Offset received from the source (stream bytes read). */
  receivedOffset: number;
  /** Offset applied on the target (exactly-once marker position). */
  appliedOffset: number;
  /** Source's master_repl_offset as last polled. */
  sourceOffset: number;
  lagBytes: number;
  lagSeconds: number;
  opsPerSecond: number;
  snapshotBytesDone: number;
  snapshotBytesTotal: number | null;
  keysDone: number;
  reconnects: number;
  lastError: string | null;
}

import type { Command } from "../model.ts";

/** How to reach one source master. */
export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  /** TLS (rediss://): certificate verified unless `insecure`. */
  tls?: { ca?: Buffer; insecure?: boolean; servername?: string };
}

export interface ReplicaSessionOptions {
  endpoint: RedisEndpoint;
  /** Managed services rename PSYNC; default "PSYNC". */
  psyncCommand?: string;
  /** Port announced with REPLCONF listening-port (shows in the master's INFO replication). */
  listeningPort?: number;
  /** Resume point: PSYNC <replid> <offset + 1>. Absent → PSYNC ? -1 (full resync). */
  resume?: { replid: string; offset: number; db: number };
  /** How often REPLCONF ACK <applied offset> is sent. Default 1000 ms. */
  ackIntervalMs?: number;
  /** No byte (data or keepalive) for this long → the link is dead. Default 60 s (Redis repl-timeout). */
  readTimeoutMs?: number;
  /** Connect timeout. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface FullResyncInfo {
  replid: string;
  /** Master offset the snapshot corresponds to; the stream continues at offset + 1. */
  offset: number;
  /** RDB size for a disk-based transfer; null for diskless ($EOF:<mark>). */
  rdbSize: number | null;
}

export interface ContinueInfo {
  replid: string;
  /** The offset PSYNC continued from (the next stream byte is offset + 1). */
  offset: number;
  /** The replid changed (psync2 after a failover): `+CONTINUE <newreplid>`. */
  replidChanged: boolean;
}

/**
 * Receives what the session reads, in order. Every method may return a promise: the session stops
 * reading the socket until it resolves — that is the backpressure of the whole pipeline.
 */
export interface ReplicaSink {
  fullResync(info: FullResyncInfo): void | Promise<void>;
  /** A slice of the RDB payload (never includes the $EOF mark or the length header). */
  rdbChunk(chunk: Buffer): void | Promise<void>;
  rdbEnd(): void | Promise<void>;
  continued(info: ContinueInfo): void | Promise<void>;
  /**
   * Decoded stream commands (PING, REPLCONF and SELECT are consumed by the session, not emitted;
   * a source MULTI…EXEC block is emitted whole, its commands tagged with one `txn` and all carrying
   * the EXEC's end offset). `endOffset`: every stream byte up to it has been emitted or was a no-op,
   * so it may be recorded as applied once `commands` are; `db` is the current db at `endOffset`.
   */
  commands(commands: Command[], endOffset: number, db: number): void | Promise<void>;
}

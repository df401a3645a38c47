/**
 * The resolved configuration of one migration job on the embedded runtime — what `ferry sync`
 * builds from its flags/config file, and what the API's job spec resolves to.
 */
import { createHash } from "node:crypto";
import { DEFAULT_BIG_KEY_THRESHOLD } from "../rdb/constants.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { DEFAULT_MARKER_PREFIX } from "../writer/marker.ts";

export type SyncMode = "full+incremental" | "full-only" | "incremental-only";

export interface EndpointConfig extends RedisEndpoint {
  /** Redacted URL for logs and status (never carries a password). */
  display: string;
  /** db from the URL path (`redis://host/3`), when given. */
  db?: number;
}

export interface SyncConfig {
  job: string;
  source: EndpointConfig;
  target: EndpointConfig;
  mode: SyncMode;
  psyncCommand: string;
  /** Encoded value size above which a key is written in chunks of commands. */
  bigKeyThreshold: number;
  /**
   * Upper bound of one command's size, when the queue caps message sizes (SQS: 1 MiB, base64):
   * values above it are written in chunks of commands no bigger than this.
   */
  maxCommandBytes?: number;
  /** Bound of the in-memory queue between reader and writer (bytes). */
  queueBytes: number;
  batch: { maxCommands: number; maxBytes: number; maxDelayMs: number };
  /** Token buckets on the target side; undefined = unlimited. */
  maxOps?: number;
  maxBytesPerSecond?: number;
  markerPrefix: string;
  markerDb: number;
  /** Source db → target db; a missing db is copied to itself (standalone) or refused (cluster target). */
  dbMap?: Map<number, number>;
  /** Exit once the snapshot is applied and the applied offset caught up with the source. */
  untilSynced: boolean;
  /** On a re-snapshot of a target recorded empty at job start: flush the mapped dbs first. */
  flushOnResnapshot: boolean;
  /** Remove the job's markers on completion (`--cleanup`). */
  cleanup: boolean;
  /** Source repl-timeout equivalent: no byte for this long → reconnect. */
  readTimeoutMs: number;
  /** Reconnect backoff: base and cap in ms. */
  backoff: { baseMs: number; maxMs: number };
}

export const SYNC_DEFAULTS = {
  mode: "full+incremental",
  psyncCommand: "PSYNC",
  bigKeyThreshold: DEFAULT_BIG_KEY_THRESHOLD, // 16 MiB: part of the peak memory (core/rdb/parser.ts)
  // 2 MiB of weighted commands (bytes + per-command heap, core/pipeline/weight.ts). A short queue
  // keeps lag low (bench: 64 MiB → 93k ops/s, p99 lag unbounded; 8 MiB → 182k, p99 16 ms), and
  // queued snapshot commands live long enough to be promoted to V8's old space, where their
  // buffers wait for a full GC: 8 → 2 MiB took the big-key run's peak RSS from 227–247 to
  // 168–202 MiB (median of 5: 244 → 177), snapshot peak 215–232 → 161–173 MiB, at the same
  // snapshot speed and stream CPU (bench/memory-repeat.ts, bench/stream-cpu.ts).
  queueBytes: 2 * 1024 * 1024,
  // 3000 commands: at a million ops/s the per-transaction work (WATCH, guard, MULTI/EXEC, replies)
  // of 1000-command batches cost ferry and the target ~8 % (bench: ladder max 1.47M → 1.56M ops/s);
  // at low rates batches are sealed by age anyway. Snapshot batches are capped by maxBytes first.
  batch: { maxCommands: 3000, maxBytes: 1024 * 1024, maxDelayMs: 5 },
  markerPrefix: DEFAULT_MARKER_PREFIX,
  markerDb: 0,
  untilSynced: false,
  flushOnResnapshot: true,
  cleanup: false,
  readTimeoutMs: 60_000,
  // Capped at 5 s: after a long outage the link comes back within seconds of the network.
  backoff: { baseMs: 200, maxMs: 5_000 },
} as const satisfies Partial<SyncConfig>;

/**
 * Default job name: derived from source and target addresses, so two migrations between different
 * servers never share markers, and a restart of the same command finds its own markers again.
 */
export function defaultJobName(source: RedisEndpoint, target: RedisEndpoint): string {
  const id = `${source.host}:${source.port}->${target.host}:${target.port}`;
  return `job-${createHash("sha256").update(id).digest("hex").slice(0, 12)}`;
}

/**
 * The decisions of `ferry check` as pure functions of observed numbers, so each threshold is tested
 * without having to misconfigure a server for it (and the RDB-version one, which needs two Redis
 * versions, can be tested at all).
 */
import type { CheckStatus } from "./types.ts";

/**
 * RDB_VERSION written by each server line (rdb.h). DUMP/RESTORE payloads carry it and a server
 * refuses a payload newer than its own (`verifyDumpPayload`), so a target older than the source
 * cannot take RESTORE and ferry must rewrite values as plain commands.
 */
export const RDB_VERSION_BY_SERVER = [
  { server: "redis", from: "8.0.0", rdb: 12 },
  { server: "redis", from: "7.4.0", rdb: 12 },
  { server: "redis", from: "7.2.0", rdb: 11 },
  { server: "redis", from: "7.0.0", rdb: 10 },
  { server: "redis", from: "5.0.0", rdb: 9 },
  { server: "redis", from: "4.0.0", rdb: 8 },
  { server: "redis", from: "3.2.0", rdb: 7 },
  { server: "redis", from: "2.6.0", rdb: 6 },
  { server: "valkey", from: "9.0.0", rdb: 80 },
  { server: "valkey", from: "7.2.0", rdb: 11 },
] as const;

export interface ServerVersion {
  server: "redis" | "valkey";
  version: string;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split(".").map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function rdbVersionOf(v: ServerVersion): number | null {
  const row = RDB_VERSION_BY_SERVER.find(
    (r) => r.server === v.server && compareVersions(v.version, r.from) >= 0,
  );
  return row?.rdb ?? null;
}

export interface Verdict {
  status: CheckStatus;
  message: string;
  advice?: string;
}

/** Can the target RESTORE the source's DUMP payloads as they are? */
export function restoreCompatibility(source: ServerVersion, target: ServerVersion): Verdict {
  const src = rdbVersionOf(source);
  const dst = rdbVersionOf(target);
  const names = `source ${source.server} ${source.version} (RDB ${src ?? "?"}), target ${target.server} ${target.version} (RDB ${dst ?? "?"})`;
  if (src === null || dst === null) {
    return {
      status: "warn",
      message: `${names}: unknown RDB version`,
      advice: "ferry will try RESTORE and fall back to commands if refused",
    };
  }
  if (dst < src) {
    return {
      status: "warn",
      message: `${names}: the target is older than the source, it refuses the source's RESTORE payloads`,
      advice:
        "values will be rewritten as plain commands (slower, no module types); upgrade the target to avoid it",
    };
  }
  if (source.server !== target.server && src >= 12) {
    // Redis 7.4+/8 and Valkey 8+/9 gave the same RDB numbers different meanings (DESIGN.md).
    return {
      status: "warn",
      message: `${names}: cross-vendor RDB`,
      advice: "values of newer types will be rewritten as commands",
    };
  }
  return { status: "ok", message: `${names}: RESTORE payloads are compatible` };
}

export function sourceVersionVerdict(v: ServerVersion): Verdict {
  const name = `${v.server} ${v.version}`;
  if (v.server === "redis" && compareVersions(v.version, "2.8.0") < 0) {
    return {
      status: "fail",
      message: `${name} has no PSYNC`,
      advice: "use --source-mode scan or upgrade the source",
    };
  }
  if (v.server === "redis" && compareVersions(v.version, "4.0.0") < 0) {
    return {
      status: "warn",
      message: `${name}: PSYNC without psync2 (no resume across failovers)`,
      advice: "upgrade to Redis ≥ 4.0 for resumable sync",
    };
  }
  return { status: "ok", message: `${name}` };
}

/** Recommended window of writes the backlog should hold: how long ferry may be away and still resume. */
export const BACKLOG_TARGET_SECONDS = 300;
/** Below this, a short network blip or a ferry restart already forces a new full snapshot. */
export const BACKLOG_WARN_SECONDS = 60;

export function backlogVerdict(backlogBytes: number, writeBytesPerSecond: number): Verdict {
  if (writeBytesPerSecond <= 0) {
    return {
      status: "ok",
      message: `repl-backlog-size ${formatBytes(backlogBytes)}; no writes observed while sampling`,
    };
  }
  const seconds = backlogBytes / writeBytesPerSecond;
  const message = `repl-backlog-size ${formatBytes(backlogBytes)} holds ${formatSeconds(seconds)} of writes at ${formatBytes(writeBytesPerSecond)}/s`;
  if (seconds >= BACKLOG_WARN_SECONDS) return { status: "ok", message };
  const wanted = roundUpSize(writeBytesPerSecond * BACKLOG_TARGET_SECONDS);
  return {
    status: "warn",
    message: `${message}: a ferry restart or network cut longer than that forces a new full snapshot`,
    advice: `CONFIG SET repl-backlog-size ${wanted}   (${BACKLOG_TARGET_SECONDS} s of writes)`,
  };
}

export interface OutputBufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

/** `client-output-buffer-limit` as CONFIG GET returns it: `normal 0 0 0 slave 268435456 67108864 60 pubsub …`. */
export function parseOutputBufferLimit(value: string): OutputBufferLimit | null {
  const parts = value.trim().split(/\s+/);
  for (let i = 0; i + 3 < parts.length; i += 4) {
    if (parts[i] === "slave" || parts[i] === "replica") {
      return {
        hard: parseSize(parts[i + 1]!),
        soft: parseSize(parts[i + 2]!),
        softSeconds: Number(parts[i + 3]),
      };
    }
  }
  return null;
}

/**
 * While the snapshot is produced and sent, the master queues every write for the replica in its
 * output buffer; past `hard` (or past `soft` for `softSeconds`) it drops the replica and the full sync
 * starts over — forever, if the numbers never fit. Estimated snapshot duration = dataset / rate.
 */
export function outputBufferVerdict(
  limit: OutputBufferLimit,
  writeBytesPerSecond: number,
  datasetBytes: number,
  snapshotBytesPerSecond: number,
): Verdict {
  const duration = datasetBytes / snapshotBytesPerSecond;
  const expected = writeBytesPerSecond * duration;
  const shown = `replica ${formatBytes(limit.hard)} ${formatBytes(limit.soft)} ${limit.softSeconds}`;
  const message = `client-output-buffer-limit ${shown}; snapshot of ${formatBytes(datasetBytes)} takes ~${formatSeconds(duration)} at ${formatBytes(snapshotBytesPerSecond)}/s, ~${formatBytes(expected)} of writes queue meanwhile`;
  const hardTooSmall = limit.hard > 0 && expected >= limit.hard;
  const softTooSmall = limit.soft > 0 && expected >= limit.soft && duration >= limit.softSeconds;
  const tight =
    (limit.hard > 0 && expected * 2 > limit.hard) ||
    (limit.soft > 0 && expected * 2 > limit.soft && duration * 2 >= limit.softSeconds);
  if (!hardTooSmall && !softTooSmall && !tight) return { status: "ok", message };
  const hard = roundUpSize(Math.max(expected * 4, 256 * 1024 * 1024));
  const soft = roundUpSize(Math.max(expected * 2, 64 * 1024 * 1024));
  const advice = `CONFIG SET client-output-buffer-limit "replica ${hard} ${soft} 60"   (or "replica 0 0 0" for no limit during the migration)`;
  if (hardTooSmall || softTooSmall) {
    return {
      status: "fail",
      message: `${message}: the master will drop ferry during the snapshot, again and again`,
      advice,
    };
  }
  return { status: "warn", message: `${message}: less than 2× headroom`, advice };
}

/** Bandwidth between ferry and both sides should be ≥ 1.5× the write volume to ever catch up. */
export function networkVerdict(writeBytesPerSecond: number): Verdict {
  const needed = writeBytesPerSecond * 1.5;
  return {
    status: "ok",
    message: `source writes ${formatBytes(writeBytesPerSecond)}/s (replication stream)`,
    advice: `keep the bandwidth source→ferry→target ≥ ${formatBytes(needed)}/s (1.5× the write volume)`,
  };
}

export function targetMemoryVerdict(maxmemory: number, sourceUsed: number): Verdict {
  if (maxmemory === 0)
    return { status: "ok", message: `maxmemory unlimited; source uses ${formatBytes(sourceUsed)}` };
  const message = `maxmemory ${formatBytes(maxmemory)} vs source used_memory ${formatBytes(sourceUsed)}`;
  const wanted = roundUpSize(sourceUsed * 1.5);
  if (maxmemory < sourceUsed) {
    return {
      status: "fail",
      message: `${message}: the data does not fit`,
      advice: `CONFIG SET maxmemory ${wanted} (or a bigger target)`,
    };
  }
  if (maxmemory < sourceUsed * 1.2) {
    return {
      status: "warn",
      message: `${message}: less than 20% headroom`,
      advice: `CONFIG SET maxmemory ${wanted}`,
    };
  }
  return { status: "ok", message };
}

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?b?)?$/i.exec(text.trim());
  if (!m) return Number.NaN;
  const unit = (m[2] ?? "").toLowerCase();
  const mult: Record<string, number> = {
    "": 1,
    b: 1,
    k: 1000,
    kb: 1024,
    m: 1e6,
    mb: 1024 ** 2,
    g: 1e9,
    gb: 1024 ** 3,
  };
  return Math.round(Number(m[1]) * (mult[unit] ?? Number.NaN));
}

/** Rounded up to a whole MiB (what an operator would type). */
export function roundUpSize(bytes: number): string {
  const mb = Math.max(1, Math.ceil(bytes / (1024 * 1024)));
  return `${mb}mb`;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "∞";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** What `ferry check` reports: one line per check and node, with the change to make. */

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  /** Stable id, e.g. `source.backlog` (for --json consumers and docs). */
  id: string;
  side: "source" | "target" | "network";
  /** `host:port` of the node the check ran on (absent for cross-node checks). */
  node?: string;
  status: CheckStatus;
  message: string;
  /** What to change, e.g. the exact `CONFIG SET …` to run. */
  advice?: string;
}

export interface CheckReport {
  results: CheckResult[];
  summary: { ok: number; warn: number; fail: number };
  /** 0 all OK, 1 warnings, 2 failures. */
  exitCode: 0 | 1 | 2;
}

export interface CheckOptions {
  /** How long to sample master_repl_offset for the write rate. Default 3 s. */
  sampleSeconds: number;
  /** Time bound for the big-key SCAN per source master. Default 5 s. */
  scanSeconds: number;
  /** Bytes (MEMORY USAGE) above which a key is listed as big. Default 16 MiB… see docs. */
  bigKeyThreshold: number;
  /** Assumed snapshot transfer rate for the output-buffer estimate. Default 50 MB/s. */
  snapshotBytesPerSecond: number;
  /** PSYNC as renamed by a managed service. Default "PSYNC". */
  psyncCommand: string;
  /** `scan` mode needs keyspace notifications instead of PSYNC. */
  sourceMode: "psync" | "scan";
  /** How many of the largest keys to list. Default 5. */
  bigKeysListed: number;
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  sampleSeconds: 3,
  scanSeconds: 5,
  bigKeyThreshold: 16 * 1024 * 1024, // ferry sync's default (DEFAULT_BIG_KEY_THRESHOLD)
  snapshotBytesPerSecond: 50 * 1000 * 1000,
  psyncCommand: "PSYNC",
  sourceMode: "psync",
  bigKeysListed: 5,
};

export function summarize(results: CheckResult[]): CheckReport {
  const summary = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) summary[r.status]++;
  const exitCode = summary.fail > 0 ? 2 : summary.warn > 0 ? 1 : 0;
  return { results, summary, exitCode };
}

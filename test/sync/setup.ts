/**
 * Shared pieces of the `ferry sync` tests: an in-process SyncJob config for two test servers, the
 * real CLI as a child process, and checks the generic oracle (compare.ts) does not make: absolute
 * expiry via PEXPIRETIME, and lag 0 against the source's own master_repl_offset.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { parseRedisUrl, redactUrl } from "../../core/connect/index.ts";
import type { FilterSpec } from "../../core/filters/index.ts";
import { type EndpointConfig, SYNC_DEFAULTS, type SyncConfig } from "../../core/jobs/syncConfig.ts";
import { SyncJob } from "../../core/jobs/syncJob.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import { compareServers, type Difference } from "../helpers/compare.ts";
import { fillDataset } from "../helpers/load.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";

const ROOT = join(import.meta.dirname, "..", "..");

export function endpointOf(url: string, role: "source" | "target"): EndpointConfig {
  const { tlsEnabled: _tls, ...parsed } = parseRedisUrl(url, { role, env: {} });
  return { ...parsed, display: redactUrl(url) };
}

export function syncConfig(sourceUrl: string, targetUrl: string, over: Partial<SyncConfig> = {}): SyncConfig {
  return {
    ...SYNC_DEFAULTS,
    batch: { ...SYNC_DEFAULTS.batch },
    backoff: { baseMs: 50, maxMs: 1000 },
    job: "test-job",
    source: endpointOf(sourceUrl, "source"),
    target: endpointOf(targetUrl, "target"),
    ...over,
  };
}

export async function openJob(
  sourceUrl: string,
  targetUrl: string,
  over: Partial<SyncConfig> = {},
  filters?: FilterSpec,
): Promise<SyncJob> {
  return SyncJob.open({
    config: syncConfig(sourceUrl, targetUrl, over),
    log: silentLogger(),
    ...(filters ? { filters } : {}),
  });
}

export async function masterOffset(source: Redis): Promise<number> {
  const info = await source.info("replication");
  const match = /master_repl_offset:(\d+)/.exec(info);
  if (!match) throw new Error(`no master_repl_offset in INFO replication:\n${info}`);
  return Number(match[1]);
}

/** Waits until the job applied everything the source has written (applied offset == master_repl_offset). */
export async function waitCaughtUp(job: SyncJob, source: Redis, timeoutMs = 30_000): Promise<number> {
  let offset = -1;
  await waitFor(
    async () => {
      offset = await masterOffset(source);
      const shard = job.status().shards[0];
      return shard !== undefined && shard.phase === "streaming" && shard.appliedOffset === offset;
    },
    timeoutMs,
    50,
  );
  return offset;
}

/**
 * Absolute expiries must match: RESTORE … ABSTTL and PEXPIREAT keep the source's deadline, while a
 * TTL recomputed late would drift by the time the copy took.
 */
export async function expiryDifferences(
  source: Redis,
  target: Redis,
  dbs: number[],
  toleranceMs = 1000,
): Promise<Difference[]> {
  const diffs: Difference[] = [];
  for (const db of dbs) {
    await source.select(db);
    await target.select(db);
    let cursor = "0";
    do {
      const [next, keys] = await source.scanBuffer(cursor, "COUNT", 500);
      cursor = String(next);
      for (const key of keys) {
        if (key.toString("latin1").startsWith("__ferry:")) continue;
        const [a, b] = await Promise.all([
          source.call("PEXPIRETIME", key) as Promise<number>,
          target.call("PEXPIRETIME", key) as Promise<number>,
        ]);
        // -2 on the source: the key expired meanwhile; nothing to compare.
        if (a === -2) continue;
        if ((a < 0 || b < 0) && a !== b)
          diffs.push({ db, key: key.toString("latin1"), reason: `expiretime ${a} != ${b}` });
        else if (a >= 0 && Math.abs(a - b) > toleranceMs)
          diffs.push({ db, key: key.toString("latin1"), reason: `expiretime ${a} vs ${b}` });
      }
    } while (cursor !== "0");
  }
  await source.select(0);
  await target.select(0);
  return diffs;
}

/** compareServers + expiry check over `dbs`; returns every difference (expected: none). */
export async function differences(source: Redis, target: Redis, dbs: number[]): Promise<Difference[]> {
  return [
    ...(await compareServers(source, target, { dbs, ttlToleranceMs: 1000 })),
    ...(await expiryDifferences(source, target, dbs)),
  ];
}

export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128+signal). */
  exited: Promise<number>;
  /** Peak resident set of the ferry process (VmHWM, KiB), sampled while it runs. */
  peakRssKiB(): number;
  /** Milliseconds from the error report (`ferry: …` on stderr) to the exit; null without one. */
  exitDelayAfterErrorMs(): number | null;
}

/** Runs `node bin/ferry.mjs <args>` (the real CLI) with a clean environment. */
export function runFerry(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [join(ROOT, "bin", "ferry.mjs"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let peak = 0;
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  let errorAt: number | null = null;
  let exitAt: number | null = null;
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
    if (errorAt === null && /^ferry: /m.test(err)) errorAt = Date.now();
  });
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      const match = /VmHWM:\s+(\d+)/.exec(status);
      if (match) peak = Math.max(peak, Number(match[1]));
    } catch {
      // the process is gone
    }
  };
  const sampler = setInterval(sample, 100);
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => {
      exitAt = Date.now();
      clearInterval(sampler);
      resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : 15));
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    peakRssKiB: () => peak,
    exitDelayAfterErrorMs: () => (errorAt !== null && exitAt !== null ? exitAt - errorAt : null),
  };
}

/** Kill a CLI child that a failing test left running. */
export function killFerry(run: CliRun | undefined): void {
  if (run && run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
}

/** JSON log lines (the CLI logs JSON when stdout is not a terminal). */
export function logLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface ServerPair {
  source: RedisProc;
  target: RedisProc;
  src: Redis;
  dst: Redis;
}

/**
 * A source filled with `keys` keys of every kind and an empty target, shared by the tests of one
 * file and stopped after them. Read the fields inside a test (they are set in beforeAll).
 */
export function useFilledServers(keys = 300): ServerPair {
  const pair = {} as ServerPair;
  beforeAll(async () => {
    [pair.source, pair.target] = await Promise.all([startRedis(), startRedis()]);
    pair.src = pair.source.client();
    pair.dst = pair.target.client();
    await fillDataset(pair.src, { keys });
  });
  afterAll(async () => {
    await Promise.all([pair.source?.stop(), pair.target?.stop()]);
  });
  return pair;
}

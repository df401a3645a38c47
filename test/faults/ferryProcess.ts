/**
 * `ferry sync` as a real child process for fault tests: JSON logs parsed line by line (stderr),
 * /status and /metrics through `--status-port 0`, kill -9 and graceful stop. Every child started
 * here is killed on exit, so a failing test leaves no ferry behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { waitFor } from "../helpers/redis.ts";

const BIN = join(import.meta.dirname, "..", "..", "bin", "ferry.mjs");

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

export interface FerryProcess {
  readonly startedAt: number;
  readonly logs: LogLine[];
  /** Resolves with the first log line (already seen or to come) matching `test`. */
  waitLog(test: RegExp | ((line: LogLine) => boolean), timeoutMs?: number): Promise<LogLine>;
  status(): Promise<FerryStatus>;
  metrics(): Promise<string>;
  kill9(): Promise<void>;
  /** SIGTERM (drain) and wait for the exit code. */
  stop(): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export interface FerryStatus {
  phase: string;
  shards: Array<{ phase: string; appliedOffset: number; sourceOffset: number; reconnects: number }>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export function startFerry(args: string[], env: Record<string, string> = {}): FerryProcess {
  const startedAt = Date.now();
  const child = spawn(
    process.execPath,
    [BIN, "sync", "--log-format", "json", "--status-port", "0", "--no-progress", ...args],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } },
  );
  live.add(child);
  const logs: LogLine[] = [];
  const listeners = new Set<(line: LogLine) => void>();
  let rest = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    const lines = (rest + text).split("\n");
    rest = lines.pop() ?? "";
    for (const raw of lines) {
      if (!raw.startsWith("{")) continue;
      const line = JSON.parse(raw) as LogLine;
      logs.push(line);
      for (const listener of listeners) listener(line);
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      live.delete(child);
      // FERRY_FAULT_LOGS=<dir> keeps every child's log for a failing CI run.
      const dir = process.env["FERRY_FAULT_LOGS"];
      if (dir) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(
          join(dir, `ferry-${startedAt}-${child.pid}.jsonl`),
          logs.map((l) => JSON.stringify(l)).join("\n"),
        );
      }
      resolve(code);
    }),
  );

  const waitLog = (test: RegExp | ((line: LogLine) => boolean), timeoutMs = 30_000) => {
    const match = (line: LogLine) => (test instanceof RegExp ? test.test(line.msg) : test(line));
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(
          new Error(
            `no log line matching ${String(test)} within ${timeoutMs} ms; last lines:\n${logs
              .slice(-8)
              .map((l) => l.msg)
              .join("\n")}`,
          ),
        );
      }, timeoutMs);
      const listener = (line: LogLine) => {
        if (!match(line)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(line);
      };
      listeners.add(listener);
      void exited.then(() => {
        if (!listeners.has(listener)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        reject(new Error(`ferry exited before logging ${String(test)}: ${logs.at(-1)?.msg ?? ""}`));
      });
    });
  };

  const statusPort = async (): Promise<number> => {
    const line = await waitLog(/^status on /, 15_000);
    return Number(line["port"]);
  };
  const get = async (path: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${await statusPort()}${path}`);

  return {
    startedAt,
    logs,
    waitLog,
    exited,
    async status() {
      return (await (await get("/status")).json()) as FerryStatus;
    },
    async metrics() {
      return (await get("/metrics")).text();
    },
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** `replid:offset:db[:s<seq>]` of a job's marker on the target (null: none). */
export async function readMarker(
  target: Redis,
  job: string,
  shard = "standalone",
): Promise<{ replid: string; offset: number; snapshot: boolean } | null> {
  const value = await target.get(`__ferry:${job}:${shard}`);
  if (value === null) return null;
  const [replid, offset, , seq] = value.split(":");
  return { replid: replid!, offset: Number(offset), snapshot: seq !== undefined };
}

export async function masterOffset(source: Redis): Promise<number> {
  const info = await source.info("replication");
  return Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? -1);
}

export async function syncStats(
  source: Redis,
): Promise<{ full: number; partialOk: number; partialErr: number }> {
  const info = await source.info("stats");
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? 0);
  return {
    full: field("sync_full"),
    partialOk: field("sync_partial_ok"),
    partialErr: field("sync_partial_err"),
  };
}

/**
 * Waits until the target's marker carries the source's current offset (the source must be idle:
 * no load running) — "lag 0" measured from the target, independent of ferry's own status.
 */
export async function waitCaughtUp(
  source: Redis,
  target: Redis,
  job: string,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => {
      const [marker, offset] = await Promise.all([readMarker(target, job), masterOffset(source)]);
      return marker !== null && !marker.snapshot && marker.offset >= offset;
    },
    timeoutMs,
    100,
  );
}

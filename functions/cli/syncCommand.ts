/**
 * `ferry sync` definition: the flags and help text, cheap to import (no job runtime), so `--help`
 * lists every option while the implementation in ./sync.ts loads only when the command runs.
 * Flags may also come from `--config file`.
 */
import { type Command, Option } from "commander";
import { SYNC_DEFAULTS, type SyncMode } from "../../core/jobs/syncConfig.ts";
import type { LogFormat } from "../../core/observability/logger.ts";
import type { SourceMode } from "../../core/readers/types.ts";
import { addFilterOptions } from "./filterOptions.ts";

export interface SyncCliOptions {
  source?: string;
  target?: string;
  config?: string;
  job?: string;
  mode: SyncMode;
  psyncCommand: string;
  bigKeyThreshold: string;
  queueSize: string;
  batchCommands: string;
  maxOps?: string;
  maxBytes?: string;
  markerPrefix: string;
  markerDb: string;
  untilSynced?: boolean;
  cleanup?: boolean;
  flushOnResnapshot: boolean;
  statusPort?: string;
  logFormat?: LogFormat;
  logLevel?: string;
  progress: boolean;
  sourceTlsCa?: string;
  targetTlsCa?: string;
  tlsInsecure?: boolean;
  readTimeout: string;
  sourceMode: SourceMode;
  sourceRdb?: string;
  [filter: string]: unknown;
}

export function register(program: Command): void {
  const command = program
    .command("sync")
    .summary("migrate a live source into a target: snapshot, then the live write stream, exactly once")
    .description(
      "Poses as a replica of every source master (PSYNC), streams the snapshot into the target without " +
        "touching local disk, then applies the live write stream until stopped (Ctrl-C drains and exits 0). " +
        "Progress is checkpointed on the target (marker keys under --marker-prefix): run the same command " +
        "again after a crash or restart and it continues from the replication offset (no new snapshot while " +
        "the source's backlog still holds it).",
    )
    .option(
      "--source <url>",
      "source redis://[user[:pass]@]host[:port] (rediss:// for TLS); any node of a cluster",
    )
    .option("--target <url>", "target URL, standalone or any node of a cluster")
    .option("--config <file>", "read options from a .toml or .json file (flags on the command line win)")
    .option(
      "--job <name>",
      "job name: keeps the markers of two migrations apart (default: derived from source+target)",
    )
    .addOption(
      new Option("--mode <mode>", "what to copy")
        .choices(["full+incremental", "full-only", "incremental-only"])
        .default(SYNC_DEFAULTS.mode),
    )
    .option("--psync-command <name>", "PSYNC as renamed by a managed service", SYNC_DEFAULTS.psyncCommand)
    .addOption(
      new Option(
        "--source-mode <mode>",
        "psync: pose as a replica (exact, resumable); scan: SCAN + keyspace notifications, for sources " +
          "that block PSYNC (needs notify-keyspace-events KEA; per-key eventual consistency)",
      )
        .choices(["psync", "scan"])
        .default("psync"),
    )
    .option(
      "--source-rdb <location>",
      "one-off restore of an RDB file instead of a live source: a path, https://… URL or s3://bucket/key " +
        "(streamed, never downloaded to disk first); exits when every key is applied",
    )
    .option(
      "--big-key-threshold <size>",
      "values larger than this are written in chunks of commands instead of one RESTORE " +
        "(ferry holds a value up to this size in memory)",
      "16mb",
    )
    .option(
      "--queue-size <size>",
      "bound of the queue between source and target: encoded bytes plus per-command heap (backpressure beyond)",
      "2mb",
    )
    .option(
      "--batch-commands <n>",
      "commands per target transaction",
      String(SYNC_DEFAULTS.batch.maxCommands),
    )
    .option("--max-ops <n>", "limit writes to the target, commands per second")
    .option("--max-bytes <size>", "limit writes to the target, bytes per second (e.g. 50mb)")
    .option("--until-synced", "exit 0 once the snapshot is applied and the target caught up with the source")
    .option("--cleanup", "remove the job's marker keys from the target when the job ends")
    .option(
      "--no-flush-on-resnapshot",
      "on a forced re-snapshot, never flush the target (stale keys may remain)",
    )
    .option(
      "--marker-prefix <prefix>",
      "key prefix of ferry's checkpoint markers on the target",
      SYNC_DEFAULTS.markerPrefix,
    )
    .option("--marker-db <db>", "db of the markers on a standalone target", "0")
    .option(
      "--read-timeout <ms>",
      "no byte from the source for this long → reconnect",
      String(SYNC_DEFAULTS.readTimeoutMs),
    )
    .option("--source-tls-ca <file>", "PEM CA bundle to verify the source's TLS certificate")
    .option("--target-tls-ca <file>", "PEM CA bundle to verify the target's TLS certificate")
    .option("--tls-insecure", "do not verify TLS certificates (both sides)")
    .option("--status-port <port>", "serve GET /status (JSON) and GET /metrics (Prometheus) on this port")
    .addOption(
      new Option("--log-format <format>", "log format (default: text on a terminal, json otherwise)").choices(
        ["json", "text"],
      ),
    )
    .option("--log-level <level>", "trace, debug, info, warn, error", "info")
    .option("--no-progress", "no progress bar / status line");
  addFilterOptions(command);
  command.addHelpText(
    "after",
    `
Passwords: put them in the URL or in FERRY_SOURCE_PASSWORD / FERRY_TARGET_PASSWORD (and _USERNAME),
so they stay out of shell history and process listings. They are never logged.

Examples:
  ferry sync --source redis://10.0.0.1:6379 --target redis://10.0.0.2:6379
  ferry sync --source redis://src:6379 --target redis://cluster-node:7000 --db-map 0:0,3:0
  ferry sync --config ferry.toml --until-synced --cleanup`,
  );
  command.action(async (opts: SyncCliOptions) => {
    // The job runtime (ioredis, pino, prom-client, hono for --status-port) loads only now, so
    // `ferry --help` and the other subcommands never pay for it.
    const { runSyncCommand } = await import("./sync.ts");
    await runSyncCommand(command, opts);
  });
}

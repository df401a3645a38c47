/**
 * `ferry sync`: the main job on the embedded runtime — snapshot + live stream from a source (standalone
 * or cluster) into a target, exactly once, resumable. Flags may also come from `--config file`.
 */
import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { parse as parseToml, TomlError } from "smol-toml";
import { parseRedisUrl, redactUrl, withTls } from "../../core/connect/index.ts";
import { BadInputError } from "../../core/errors.ts";
import type { FilterArgs } from "../../core/filters/index.ts";
import {
  defaultJobName,
  type EndpointConfig,
  SYNC_DEFAULTS,
  type SyncConfig,
  type SyncMode,
} from "../../core/jobs/syncConfig.ts";
import { SyncJob } from "../../core/jobs/syncJob.ts";
import { createLogger, type LogFormat } from "../../core/observability/logger.ts";
import { parseSize } from "../../core/pipeline/size.ts";
import type { RdbInput } from "../../core/readers/rdbFile/input.ts";
import { RdbRestoreJob } from "../../core/readers/rdbFile/job.ts";
import type { SourceMode } from "../../core/readers/types.ts";
import { addFilterOptions, filterSpecFromOptions } from "./filterOptions.ts";
import { startStatusServer } from "./statusServer.ts";
import { startProgress, summaryLines } from "./syncProgress.ts";

interface SyncCliOptions {
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
      "values larger than this are written in chunks of commands instead of one RESTORE",
      "64mb",
    )
    .option(
      "--queue-size <size>",
      "bound of the queue between source and target, in encoded bytes (backpressure beyond)",
      "8mb",
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
    applyConfigFile(command, opts);
    await runSync(opts);
  });
}

/** Options from `--config` fill in whatever the command line did not set. */
function applyConfigFile(command: Command, opts: SyncCliOptions): void {
  if (!opts.config) return;
  let text: string;
  try {
    text = readFileSync(opts.config, "utf8");
  } catch (err) {
    throw new BadInputError(`cannot read the config file ${opts.config}: ${(err as Error).message}`);
  }
  let values: Record<string, unknown>;
  try {
    values = opts.config.endsWith(".json") ? JSON.parse(text) : (parseToml(text) as Record<string, unknown>);
  } catch (err) {
    throw new BadInputError(
      `the config file ${opts.config} is not valid: ${parseErrorWithoutText(err, text)}`,
      "fix the file (TOML, or JSON when its name ends in .json); values are the long options of `ferry sync --help`",
    );
  }
  const known = new Map(command.options.map((o) => [o.attributeName(), o]));
  for (const [rawName, value] of Object.entries(values)) {
    const name = rawName.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!known.has(name)) {
      throw new BadInputError(
        `unknown option "${rawName}" in ${opts.config}`,
        "use the long option names of `ferry sync --help`",
      );
    }
    if (command.getOptionValueSource(name) === "cli") continue;
    const normalized = Array.isArray(value)
      ? value.map(String)
      : typeof value === "boolean"
        ? value
        : String(value);
    command.setOptionValueWithSource(name, normalized, "config");
    (opts as Record<string, unknown>)[name] = normalized;
  }
}

/**
 * Parser messages quote the offending text (smol-toml prints the surrounding lines, V8 a JSON
 * snippet), and a config file holds URLs that may carry passwords: report only where it went wrong.
 */
function parseErrorWithoutText(err: unknown, text: string): string {
  if (err instanceof TomlError)
    return `${err.message.split("\n")[0]} (line ${err.line}, column ${err.column})`;
  const position = /at position (\d+)/.exec((err as Error).message);
  if (!position) return "invalid JSON";
  const before = text.slice(0, Number(position[1])).split("\n");
  return `invalid JSON (line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1})`;
}

function endpoint(
  url: string | undefined,
  role: "source" | "target",
  ca: string | undefined,
  insecure: boolean | undefined,
): EndpointConfig {
  if (!url)
    throw new BadInputError(
      `--${role} is required`,
      `give the ${role} as --${role} redis://host:port (or in --config)`,
    );
  const { tlsEnabled, ...parsed } = parseRedisUrl(url, { role });
  const withCerts = tlsEnabled ? withTls(parsed, { caFile: ca, insecure }) : parsed;
  return { ...withCerts, display: redactUrl(url) };
}

function integer(value: string, flag: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new BadInputError(`${flag} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

export function syncConfigFromOptions(opts: SyncCliOptions): SyncConfig {
  const source =
    opts.sourceRdb && !opts.source
      ? rdbSourcePlaceholder(opts.sourceRdb)
      : endpoint(opts.source, "source", opts.sourceTlsCa, opts.tlsInsecure);
  const target = endpoint(opts.target, "target", opts.targetTlsCa, opts.tlsInsecure);
  const config: SyncConfig = {
    job: opts.job ?? defaultJobName(source, target),
    source,
    target,
    mode: opts.mode,
    psyncCommand: opts.psyncCommand,
    bigKeyThreshold: parseSize(opts.bigKeyThreshold, "--big-key-threshold"),
    queueBytes: parseSize(opts.queueSize, "--queue-size"),
    batch: { ...SYNC_DEFAULTS.batch, maxCommands: integer(opts.batchCommands, "--batch-commands", 1) },
    markerPrefix: opts.markerPrefix,
    markerDb: integer(opts.markerDb, "--marker-db"),
    untilSynced: opts.untilSynced ?? false,
    flushOnResnapshot: opts.flushOnResnapshot,
    cleanup: opts.cleanup ?? false,
    readTimeoutMs: integer(opts.readTimeout, "--read-timeout", 1000),
    backoff: { ...SYNC_DEFAULTS.backoff },
  };
  if (opts.maxOps !== undefined) config.maxOps = integer(opts.maxOps, "--max-ops", 1);
  if (opts.maxBytes !== undefined) config.maxBytesPerSecond = parseSize(opts.maxBytes, "--max-bytes");
  if (!/^[^\s]+$/.test(config.job)) throw new BadInputError(`--job "${config.job}" must not contain spaces`);
  return config;
}

/** The AWS SDK loads only when an s3:// location is given (it costs every other command startup time). */
async function openS3(location: string): Promise<RdbInput> {
  const { s3RdbOpener } = await import("../../core/adapters/s3/rdbObject.ts");
  return s3RdbOpener()(location);
}

/** `--source-rdb` has no source server: the file stands in for it (job name, status). */
function rdbSourcePlaceholder(location: string): EndpointConfig {
  return { host: location.replace(/[?#].*$/, ""), port: 0, display: location.replace(/[?#].*$/, "") };
}

async function runSync(opts: SyncCliOptions): Promise<void> {
  const config = syncConfigFromOptions(opts);
  const filters = filterSpecFromOptions(opts as FilterArgs);
  const tty = process.stdout.isTTY === true;
  const log = createLogger({
    format: opts.logFormat ?? (tty ? "text" : "json"),
    level: opts.logLevel ?? "info",
  });
  if (opts.sourceRdb && opts.source)
    throw new BadInputError("give either --source or --source-rdb, not both");
  const job = opts.sourceRdb
    ? await RdbRestoreJob.open({ config, location: opts.sourceRdb, filters, log, input: { s3: openS3 } })
    : await SyncJob.open({ config, filters, log, sourceMode: opts.sourceMode });
  const statusServer = opts.statusPort
    ? await startStatusServer({
        port: integer(opts.statusPort, "--status-port"),
        status: () => job.status(),
        registry: job.metrics.registry,
      })
    : null;
  if (statusServer)
    log.info({ port: statusServer.port }, "status on http://127.0.0.1:<port>/status and /metrics");
  const progress = tty && opts.progress ? startProgress(() => job.status()) : null;

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.error("second signal: exiting without draining (the next run resumes from the target's markers)");
      process.exit(130);
    }
    log.info({ signal }, "stopping: no more reads from the source, applying what was read");
    void job.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const started = Date.now();
  try {
    await job.run();
  } finally {
    progress?.stop();
    await statusServer?.close();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    const summary = summaryLines(job.status(), Date.now() - started);
    if (tty) process.stdout.write(`${summary.join("\n")}\n`);
    else log.info({ status: job.status() }, summary[0]!);
  }
}

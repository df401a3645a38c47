/**
 * `ferry sync` implementation (flags and help in ./syncCommand.ts): the main job on the embedded
 * runtime — snapshot + live stream from a source (standalone or cluster) into a target, exactly
 * once, resumable.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parse as parseToml, TomlError } from "smol-toml";
import { parseRedisUrl, redactUrl, withTls } from "../../core/connect/index.ts";
import { BadInputError } from "../../core/errors.ts";
import { type FilterArgs, parseFilterArgs } from "../../core/filters/index.ts";
import {
  defaultJobName,
  type EndpointConfig,
  SYNC_DEFAULTS,
  type SyncConfig,
} from "../../core/jobs/syncConfig.ts";
import { SyncJob } from "../../core/jobs/syncJob.ts";
import { createLogger } from "../../core/observability/logger.ts";
import { parseSize } from "../../core/pipeline/size.ts";
import type { RdbInput } from "../../core/readers/rdbFile/input.ts";
import { RdbRestoreJob } from "../../core/readers/rdbFile/job.ts";
import type { SyncCliOptions } from "./syncCommand.ts";
import { startProgress, summaryLines } from "./syncProgress.ts";

/** Runs `ferry sync` once its flags are parsed (called from ./syncCommand.ts). */
export async function runSyncCommand(command: Command, opts: SyncCliOptions): Promise<void> {
  applyConfigFile(command, opts);
  await runSync(opts);
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
  const filters = parseFilterArgs(opts as FilterArgs);
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
  // hono loads only for --status-port: a plain sync has no HTTP server to pay for.
  const statusServer = opts.statusPort
    ? await (await import("./statusServer.ts")).startStatusServer({
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

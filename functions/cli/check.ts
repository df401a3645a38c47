/** `ferry check`: preflight of source and target with tuning advice (core/check). */
import { type Command, Option } from "commander";
import { parseSize } from "../../core/check/advice.ts";
import { formatCheckReport, runCheck } from "../../core/check/run.ts";
import { DEFAULT_CHECK_OPTIONS } from "../../core/check/types.ts";
import { type EndpointRole, parseRedisUrl, withTls } from "../../core/connect/index.ts";
import { BadInputError } from "../../core/errors.ts";
import type { RedisEndpoint } from "../../core/replication/types.ts";

export interface EndpointCliOptions {
  tlsCa?: string;
  tlsInsecure?: boolean;
}

/** `--source`/`--target` URL + the shared TLS flags → endpoint (also used by `ferry verify`). */
export function endpointFromCli(
  url: string,
  role: EndpointRole,
  opts: EndpointCliOptions,
): RedisEndpoint & { db?: number } {
  const parsed = parseRedisUrl(url, { role });
  const { tlsEnabled: _tls, ...endpoint } = parsed;
  return withTls(endpoint, { caFile: opts.tlsCa, insecure: opts.tlsInsecure });
}

export function addEndpointOptions(command: Command): Command {
  return command
    .requiredOption(
      "--source <url>",
      "source redis://[user[:pass]@]host[:port] (rediss:// for TLS); password also from FERRY_SOURCE_PASSWORD",
    )
    .requiredOption("--target <url>", "target URL; password also from FERRY_TARGET_PASSWORD")
    .option("--tls-ca <file>", "PEM CA bundle to verify TLS servers")
    .option("--tls-insecure", "do not verify TLS certificates");
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0)
      throw new BadInputError(`${name} must be a non-negative number, got "${value}"`);
    return n;
  };
}

export function size(name: string) {
  return (value: string): number => {
    const n = parseSize(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new BadInputError(`${name} must be a size like 64mb, got "${value}"`);
    return n;
  };
}

interface CheckCliOptions extends EndpointCliOptions {
  source: string;
  target: string;
  sampleSeconds: number;
  scanSeconds: number;
  bigKeyThreshold: number;
  snapshotRate: number;
  psyncCommand: string;
  sourceMode: "psync" | "scan";
  json?: boolean;
}

export function register(program: Command): void {
  const command = program
    .command("check")
    .summary("preflight: will this migration work, and what to tune (OK/WARN/FAIL)")
    .description(
      "Preflight: check that ferry can replicate from the source and write to the target, and what to tune " +
        "(PSYNC access, backlog and output buffer vs the observed write rate, big keys, target memory, modules). " +
        "Exit code 0 = all OK, 1 = warnings, 2 = failures.",
    );
  addEndpointOptions(command)
    .option(
      "--sample-seconds <s>",
      "how long to sample the source's write rate",
      positiveNumber("--sample-seconds"),
      DEFAULT_CHECK_OPTIONS.sampleSeconds,
    )
    .option(
      "--scan-seconds <s>",
      "time bound of the big-key scan per master",
      positiveNumber("--scan-seconds"),
      DEFAULT_CHECK_OPTIONS.scanSeconds,
    )
    .option(
      "--big-key-threshold <size>",
      "list keys at least this big (MEMORY USAGE)",
      size("--big-key-threshold"),
      DEFAULT_CHECK_OPTIONS.bigKeyThreshold,
    )
    .option(
      "--snapshot-rate <size>",
      "assumed snapshot transfer rate per second, for the output-buffer estimate",
      size("--snapshot-rate"),
      DEFAULT_CHECK_OPTIONS.snapshotBytesPerSecond,
    )
    .option("--psync-command <name>", "PSYNC as renamed by your provider", DEFAULT_CHECK_OPTIONS.psyncCommand)
    .addOption(
      new Option("--source-mode <mode>", "how ferry will read the source")
        .choices(["psync", "scan"])
        .default("psync"),
    )
    .option("--json", "print the report as JSON")
    .action(async (opts: CheckCliOptions) => {
      const report = await runCheck({
        source: endpointFromCli(opts.source, "source", opts),
        target: endpointFromCli(opts.target, "target", opts),
        options: {
          sampleSeconds: opts.sampleSeconds,
          scanSeconds: opts.scanSeconds,
          bigKeyThreshold: opts.bigKeyThreshold,
          snapshotBytesPerSecond: opts.snapshotRate,
          psyncCommand: opts.psyncCommand,
          sourceMode: opts.sourceMode,
        },
      });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report));
      process.exitCode = report.exitCode;
    });
}

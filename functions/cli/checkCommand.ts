/** `ferry check` definition: flags and help (cheap); the preflight itself is in ./check.ts. */
import { type Command, Option } from "commander";
import { DEFAULT_CHECK_OPTIONS } from "../../core/check/types.ts";
import { addEndpointOptions, type EndpointCliOptions, positiveNumber, size } from "./endpointOptions.ts";

export interface CheckCliOptions extends EndpointCliOptions {
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
      // The preflight (ioredis, the checks) loads only when `check` runs.
      const { runCheckCommand } = await import("./check.ts");
      await runCheckCommand(opts);
    });
}

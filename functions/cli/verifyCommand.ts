/** `ferry verify` definition: flags, their parsers and help (cheap); the comparison is in ./verify.ts. */
import { type Command, Option } from "commander";
import { BadInputError } from "../../core/errors.ts";
import { DEFAULT_VERIFY_OPTIONS, type VerifyOptions } from "../../core/verify/types.ts";
import { addEndpointOptions, type EndpointCliOptions, positiveNumber } from "./endpointOptions.ts";

export interface VerifyCliOptions
  extends EndpointCliOptions,
    Pick<
      VerifyOptions,
      | "mode"
      | "sample"
      | "dbMap"
      | "markerPrefix"
      | "ttlToleranceMs"
      | "recheckDelayMs"
      | "rechecks"
      | "maxReport"
      | "extra"
    > {
  source: string;
  target: string;
  filterPrefix?: Buffer[];
  json?: boolean;
  progress: boolean;
}

/** `0:0,3:1` → Map(0→0, 3→1). */
export function parseDbMap(text: string): Map<number, number> {
  const map = new Map<number, number>();
  for (const pair of text.split(",")) {
    const m = /^\s*(\d+):(\d+)\s*$/.exec(pair);
    if (!m)
      throw new BadInputError(
        `invalid --db-map entry "${pair}"`,
        "write source:target pairs, e.g. --db-map 0:0,3:1",
      );
    map.set(Number(m[1]), Number(m[2]));
  }
  return map;
}

/** `1%` or `0.01` → 0.01. */
export function parseSample(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const value = m ? Number(m[1]) / (m[2] ? 100 : 1) : Number.NaN;
  if (!(value > 0 && value <= 1))
    throw new BadInputError(`invalid --sample "${text}"`, "give a share like 1% or 0.05");
  return value;
}

function integer(name: string) {
  const parse = positiveNumber(name);
  return (value: string) => {
    const n = parse(value);
    if (!Number.isInteger(n)) throw new BadInputError(`${name} must be an integer, got "${value}"`);
    return n;
  };
}

export function register(program: Command): void {
  const command = program
    .command("verify")
    .summary("prove source and target are equal: every key, value and TTL")
    .description(
      "Compare every key of the source with the target (existence, type, value by contents, TTL) and list the keys " +
        "that differ. Exit code 0 = equal, 1 = different, 2 = error.",
    );
  addEndpointOptions(command)
    .addOption(
      new Option("--mode <mode>", "full: values by contents; fast: type, size and small values")
        .choices(["full", "fast"])
        .default("full"),
    )
    .option("--sample <share>", "check only a random share of the keys, e.g. 1%", parseSample, 1)
    .option(
      "--db-map <pairs>",
      "source:target db pairs as for sync, e.g. 0:0,3:1 (unlisted dbs are skipped)",
      parseDbMap,
    )
    .option(
      "--filter-prefix <prefix>",
      "only keys with this prefix (repeatable)",
      (v: string, prev: Buffer[] = []) => [...prev, Buffer.from(v)],
    )
    .option(
      "--marker-prefix <prefix>",
      "ferry's marker keys, never compared",
      DEFAULT_VERIFY_OPTIONS.markerPrefix,
    )
    .option(
      "--ttl-tolerance-ms <ms>",
      "TTLs within this distance are equal",
      integer("--ttl-tolerance-ms"),
      DEFAULT_VERIFY_OPTIONS.ttlToleranceMs,
    )
    .option(
      "--recheck-delay-ms <ms>",
      "wait before comparing a differing key again (live sync)",
      integer("--recheck-delay-ms"),
      DEFAULT_VERIFY_OPTIONS.recheckDelayMs,
    )
    .option(
      "--rechecks <n>",
      "how many times a differing key is compared again",
      integer("--rechecks"),
      DEFAULT_VERIFY_OPTIONS.rechecks,
    )
    .option(
      "--max-report <n>",
      "list at most this many differing keys",
      integer("--max-report"),
      DEFAULT_VERIFY_OPTIONS.maxReport,
    )
    .option("--no-extra", "skip the target scan for keys the source lacks")
    .option("--no-progress", "no progress bar")
    .option("--json", "print the report as JSON")
    .action(async (opts: VerifyCliOptions) => {
      // The comparison (ioredis, core/verify, the progress bar) loads only when `verify` runs.
      const { runVerifyCommand } = await import("./verify.ts");
      await runVerifyCommand(opts);
    });
}

/** `ferry verify`: prove source and target hold the same data (core/verify). */

import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { printableKey } from "../../core/check/bigkeys.ts";
import { BadInputError } from "../../core/errors.ts";
import { runVerify } from "../../core/verify/run.ts";
import { DEFAULT_VERIFY_OPTIONS, type VerifyOptions, type VerifyReport } from "../../core/verify/types.ts";
import { addEndpointOptions, type EndpointCliOptions, endpointFromCli, positiveNumber } from "./check.ts";

interface VerifyCliOptions
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
      const source = endpointFromCli(opts.source, "source", opts);
      const target = endpointFromCli(opts.target, "target", opts);
      const prefixes = opts.filterPrefix;
      const bar =
        opts.progress && process.stderr.isTTY && !opts.json
          ? new SingleBar({ format: "{phase} {bar} {value}/{total} keys", stream: process.stderr })
          : null;
      let phase = "";
      const report = await runVerify({
        source,
        target,
        options: {
          mode: opts.mode,
          sample: opts.sample,
          ...(opts.dbMap ? { dbMap: opts.dbMap } : {}),
          // Hook for core/filters: until sync's filter module lands, prefixes are the filter.
          ...(prefixes
            ? {
                keyFilter: (_db: number, key: Buffer) =>
                  prefixes.some((p) => key.subarray(0, p.length).equals(p)),
              }
            : {}),
          markerPrefix: opts.markerPrefix,
          ttlToleranceMs: opts.ttlToleranceMs,
          recheckDelayMs: opts.recheckDelayMs,
          rechecks: opts.rechecks,
          maxReport: opts.maxReport,
          extra: opts.extra,
          onProgress: (p) => {
            if (!bar) return;
            if (p.phase !== phase) {
              if (phase) bar.stop();
              phase = p.phase;
              bar.start(Math.max(p.total, p.scanned), 0, { phase: p.phase.padEnd(6) });
            }
            bar.setTotal(Math.max(p.total, p.scanned));
            bar.update(p.scanned, { phase: p.phase.padEnd(6) });
          },
        },
      }).finally(() => bar?.stop());
      process.stdout.write(
        opts.json ? `${JSON.stringify(toJson(report), null, 2)}\n` : formatVerifyReport(report),
      );
      process.exitCode = report.equal ? 0 : 1;
    });
}

export function toJson(report: VerifyReport) {
  return {
    ...report,
    differences: report.differences.map((d) => ({
      ...d,
      key: printableKey(d.key, 1024),
      keyBase64: d.key.toString("base64"),
    })),
  };
}

export function formatVerifyReport(report: VerifyReport): string {
  const c = report.counts;
  const lines = [
    `checked ${c.checked}  equal ${c.equal}  missing ${c.missing}  extra ${c.extra}  different ${c.different}  ttlDiffers ${c.ttlDiffers}` +
      (c.vanished ? `  (vanished during the run: ${c.vanished})` : ""),
  ];
  for (const d of report.differences) {
    const where = d.db === d.targetDb ? `db${d.db}` : `db${d.db}→db${d.targetDb}`;
    lines.push(`  ${d.kind.padEnd(9)} ${where} ${printableKey(d.key)}: ${d.reason}`);
  }
  const shown = report.differences.length;
  const total = c.missing + c.extra + c.different + c.ttlDiffers;
  if (total > shown) lines.push(`  … and ${total - shown} more (--max-report)`);
  lines.push(
    report.equal ? "source and target are equal" : "source and target DIFFER",
    `(${(report.elapsedMs / 1000).toFixed(1)} s)`,
  );
  return `${lines.join("\n")}\n`;
}

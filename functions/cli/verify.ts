/** `ferry verify` implementation (flags in ./verifyCommand.ts): prove source and target hold the same data (core/verify). */

import { SingleBar } from "cli-progress";
import { printableKey } from "../../core/check/bigkeys.ts";
import { runVerify } from "../../core/verify/run.ts";
import type { VerifyReport } from "../../core/verify/types.ts";
import { endpointFromCli } from "./check.ts";
import type { VerifyCliOptions } from "./verifyCommand.ts";

export async function runVerifyCommand(opts: VerifyCliOptions): Promise<void> {
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

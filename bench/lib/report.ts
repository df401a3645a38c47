/** The stdout table: one line per figure, ferry next to native and the ratio against its goal. */

export interface Row {
  figure: string;
  ferry: string;
  native: string;
  ratio: string;
  goal: string;
  met: boolean | null;
}

export function table(rows: Row[]): string {
  const head = ["figure", "ferry", "native", "ratio", "goal", ""];
  const cells = rows.map((r) => [
    r.figure,
    r.ferry,
    r.native,
    r.ratio,
    r.goal,
    r.met === null ? "" : r.met ? "ok" : "MISSED",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export const fmt = {
  n: (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "—"),
  ms: (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "—"),
  s: (v: number) => `${v.toFixed(2)} s`,
  mib: (v: number) => `${(v / 2 ** 20).toFixed(0)} MiB`,
  pct: (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)}%` : "—"),
};

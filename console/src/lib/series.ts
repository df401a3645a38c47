/** A bounded time series of a job's totals, fed by SSE progress events (not by polling). */
import type { Totals } from "./job.ts";

export interface Sample {
  t: number;
  lagBytes: number;
  lagSeconds: number;
  opsPerSecond: number;
  snapshotDone: number;
}

export const MAX_SAMPLES = 240;
/** Runners may report many times a second; one point per half second is plenty for a chart. */
const MIN_GAP_MS = 500;

export function addSample(series: readonly Sample[], totals: Totals, t = Date.now()): Sample[] {
  const sample: Sample = {
    t,
    lagBytes: totals.lagBytes,
    lagSeconds: totals.lagSeconds,
    opsPerSecond: totals.opsPerSecond,
    snapshotDone: totals.snapshotDone,
  };
  const last = series[series.length - 1];
  const base = last && t - last.t < MIN_GAP_MS ? series.slice(0, -1) : series;
  return [...base, sample].slice(-MAX_SAMPLES);
}

/** Snapshot bytes per second over the last ~20 s of samples, for the ETA. */
export function snapshotRate(series: readonly Sample[]): number | null {
  const last = series[series.length - 1];
  if (!last) return null;
  const first = series.find((s) => last.t - s.t <= 20_000);
  if (!first || last.t - first.t < 1000) return null;
  const rate = ((last.snapshotDone - first.snapshotDone) * 1000) / (last.t - first.t);
  return rate > 0 ? rate : null;
}

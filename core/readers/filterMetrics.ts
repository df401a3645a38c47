/**
 * The filter's counters (plain numbers, bumped on the data path) → `ferry_filtered_total{job,reason}`.
 * Counters only move forward, so each export adds the growth since the last one; call it on a
 * timer and before a scrape or a status read.
 */
import type { Filter } from "../filters/filter.ts";
import type { FerryMetrics } from "../observability/metrics.ts";

export interface FilterMetricsExporter {
  /** Push the growth since the previous call. */
  export(): void;
  stop(): void;
}

export function exportFilterMetrics(
  filter: Filter,
  metrics: FerryMetrics,
  job: string,
  intervalMs = 1000,
): FilterMetricsExporter {
  const seen = new Map<string, number>();
  const add = (reason: string, total: number): void => {
    const delta = total - (seen.get(reason) ?? 0);
    if (delta <= 0) return;
    seen.set(reason, total);
    metrics.filtered.inc({ job, reason }, delta);
  };
  const exportNow = (): void => {
    const c = filter.counters;
    // "keys": snapshot/scan keys refused; the others: stream commands dropped, by reason.
    add("keys", c.filteredKeys);
    for (const [reason, total] of Object.entries(c.filteredCommands)) add(`command-${reason}`, total);
  };
  const timer = setInterval(exportNow, intervalMs);
  timer.unref();
  exportNow();
  return {
    export: exportNow,
    stop() {
      clearInterval(timer);
      exportNow();
    },
  };
}

/**
 * Prometheus metrics (prom-client), one registry per process. Labels: job and shard, so a cluster
 * source shows one series per source master. Served by `--status-port` and the API's /metrics.
 */
import { Counter, Gauge, Registry } from "prom-client";

export interface FerryMetrics {
  registry: Registry;
  appliedCommands: Counter<"job" | "shard">;
  appliedBytes: Counter<"job" | "shard">;
  appliedOffset: Gauge<"job" | "shard">;
  sourceOffset: Gauge<"job" | "shard">;
  lagBytes: Gauge<"job" | "shard">;
  lagSeconds: Gauge<"job" | "shard">;
  snapshotKeys: Counter<"job" | "shard">;
  snapshotBytes: Counter<"job" | "shard">;
  reconnects: Counter<"job" | "shard" | "reason">;
  errors: Counter<"job" | "shard" | "kind">;
  fullResyncs: Counter<"job" | "shard">;
  filtered: Counter<"job" | "reason">;
}

export function createMetrics(registry: Registry = new Registry()): FerryMetrics {
  const labelNames = ["job", "shard"] as const;
  const counter = <L extends string>(name: string, help: string, labels: readonly L[]) =>
    new Counter<L>({ name, help, labelNames: labels, registers: [registry] });
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    appliedCommands: counter("ferry_applied_commands_total", "Commands applied to the target", labelNames),
    appliedBytes: counter(
      "ferry_applied_bytes_total",
      "Replication stream bytes applied to the target",
      labelNames,
    ),
    appliedOffset: gauge("ferry_applied_offset", "Source replication offset applied on the target"),
    sourceOffset: gauge("ferry_source_offset", "Source master_repl_offset as last polled"),
    lagBytes: gauge("ferry_lag_bytes", "Source offset minus applied offset"),
    lagSeconds: gauge("ferry_lag_seconds", "Age of the oldest received but unapplied byte"),
    snapshotKeys: counter("ferry_snapshot_keys_total", "Keys written from snapshots", labelNames),
    snapshotBytes: counter("ferry_snapshot_bytes_total", "RDB bytes received", labelNames),
    reconnects: counter("ferry_reconnects_total", "Reconnections to the source, by reason", [
      "job",
      "shard",
      "reason",
    ] as const),
    errors: counter("ferry_errors_total", "Errors, by kind (retryable, fatal)", [
      "job",
      "shard",
      "kind",
    ] as const),
    fullResyncs: counter("ferry_full_resyncs_total", "Full resyncs (snapshots) started", labelNames),
    filtered: counter("ferry_filtered_total", "Keys and commands dropped by filters, by reason", [
      "job",
      "reason",
    ] as const),
  };
}

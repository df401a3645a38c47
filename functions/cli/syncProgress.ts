/**
 * What `ferry sync` shows on a terminal: a progress bar for the snapshot (bytes, keys, rate, ETA)
 * and then one live status line for the incremental phase (ops/s, lag). Off when stdout is not a
 * TTY: logs (JSON) tell the story there.
 */
import { SingleBar } from "cli-progress";
import type { SyncStatus } from "../../core/jobs/syncJob.ts";
import { formatSize } from "../../core/pipeline/size.ts";

export interface ProgressDisplay {
  stop(): void;
}

export function startProgress(
  status: () => SyncStatus,
  out: NodeJS.WriteStream = process.stdout,
): ProgressDisplay {
  let bar: SingleBar | null = null;
  let lastLine = "";
  const startedAt = Date.now();

  const render = () => {
    const s = status();
    const t = s.totals;
    if (s.phase === "snapshot" || s.phase === "connecting") {
      const total = t.snapshotBytesTotal;
      const rate = t.snapshotBytesDone / Math.max(0.001, (Date.now() - startedAt) / 1000);
      const payload = {
        keys: t.keysDone.toLocaleString("en-US"),
        rate: formatSize(rate),
        done: formatSize(t.snapshotBytesDone),
      };
      if (total !== null && total > 0) {
        if (!bar) {
          bar = new SingleBar({
            format:
              "snapshot |{bar}| {percentage}% {done} of {totalSize} · {keys} keys · {rate}/s · ETA {eta_formatted}",
            barCompleteChar: "█",
            barIncompleteChar: "░",
            hideCursor: true,
            stream: out,
            clearOnComplete: false,
          });
          bar.start(total, 0, { ...payload, totalSize: formatSize(total) });
        }
        bar.update(Math.min(total, t.snapshotBytesDone), { ...payload, totalSize: formatSize(total) });
        return;
      }
      line(
        `snapshot  ${payload.done} received · ${payload.keys} keys · ${payload.rate}/s (diskless: size unknown)`,
      );
      return;
    }
    if (bar) {
      bar.update(bar.getTotal());
      bar.stop();
      bar = null;
    }
    const shards = s.shards.length > 1 ? ` · ${s.shards.length} shards` : "";
    line(
      `${s.phase.padEnd(9)} ${Math.round(t.opsPerSecond).toLocaleString("en-US")} ops/s · lag ${formatSize(t.lagBytes)} / ${t.lagSeconds.toFixed(2)} s · ${t.keysDone.toLocaleString("en-US")} snapshot keys${shards}${t.reconnects ? ` · ${t.reconnects} reconnects` : ""}`,
    );
  };

  const line = (text: string) => {
    if (text === lastLine) return;
    lastLine = text;
    out.write(`\r\x1b[2K${text}`);
  };

  const timer = setInterval(render, 250);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const activeBar = bar as SingleBar | null;
      if (activeBar) activeBar.stop();
      if (lastLine) out.write("\n");
    },
  };
}

/** The one-paragraph summary printed when `ferry sync` ends. */
export function summaryLines(s: SyncStatus, elapsedMs: number): string[] {
  const t = s.totals;
  const lines = [
    `ferry sync ${s.phase === "failed" ? "failed" : "stopped"} after ${(elapsedMs / 1000).toFixed(1)} s — job ${s.job}`,
    `  snapshot: ${t.keysDone.toLocaleString("en-US")} keys, ${formatSize(t.snapshotBytesDone)} of RDB`,
  ];
  for (const shard of s.shards) {
    lines.push(
      `  shard ${shard.shard} (${shard.address}): replid ${shard.replid ?? "-"} applied offset ${shard.appliedOffset}, lag ${shard.lagBytes} bytes, ${shard.reconnects} reconnects`,
    );
  }
  if (s.filtered.keys || s.filtered.commands) {
    lines.push(`  filtered: ${s.filtered.keys} keys, ${s.filtered.commands} commands`);
  }
  for (const error of s.errors) lines.push(`  error: ${error}`);
  return lines;
}

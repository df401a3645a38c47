/**
 * How far the target trails the source, per shard: bytes (source's master_repl_offset − applied
 * offset), seconds (age of the oldest byte received but not yet applied) and apply rate.
 *
 * Lag in seconds is measured, not estimated from bytes: every received offset is stamped with its
 * arrival time, so "oldest unapplied byte arrived 2.3 s ago" is read directly. Samples closer than
 * `sampleEveryMs` are merged into the older one (bounded memory; the error is at most that interval,
 * and always towards reporting more lag, never less).
 */
import type { Redis } from "ioredis";
import type { ShardProgress } from "../model.ts";
import type { Clock } from "../ports.ts";
import { systemClock } from "../ports.ts";

/** The lag fields of a shard's progress. */
export type LagSnapshot = Pick<
  ShardProgress,
  "receivedOffset" | "appliedOffset" | "sourceOffset" | "lagBytes" | "lagSeconds" | "opsPerSecond"
>;

export interface LagTrackerOptions {
  clock?: Clock;
  /** Window of the ops/s average (default 5 s). */
  rateWindowMs?: number;
  /** Minimum spacing of arrival samples (default 10 ms). */
  sampleEveryMs?: number;
}

export class LagTracker {
  private readonly clock: Clock;
  private readonly rateWindowMs: number;
  private readonly sampleEveryMs: number;
  /** (offset, receivedAt), offsets increasing; only offsets above `appliedOffset` are kept. */
  private samples: Array<{ offset: number; at: number }> = [];
  private head = 0;
  /** (at, ops) per apply; entries before opsHead left the window. Read per applied batch: O(1). */
  private appliedOps: Array<{ at: number; ops: number }> = [];
  private opsHead = 0;
  private windowOps = 0;
  private firstApplyAt: number | null = null;
  private receivedOffset = 0;
  private appliedOffset = 0;
  private sourceOffset = 0;

  constructor(opts: LagTrackerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.rateWindowMs = opts.rateWindowMs ?? 5000;
    this.sampleEveryMs = opts.sampleEveryMs ?? 10;
  }

  /** Stream bytes up to `offset` have been read from the source. */
  received(offset: number): void {
    if (offset <= this.receivedOffset) return;
    this.receivedOffset = offset;
    if (offset <= this.appliedOffset) return;
    const now = this.clock.now();
    const last = this.samples[this.samples.length - 1];
    if (last && this.samples.length > this.head && now - last.at < this.sampleEveryMs) last.offset = offset;
    else this.samples.push({ offset, at: now });
  }

  /** The target holds everything up to `offset`; `ops` commands were applied to get there. */
  applied(offset: number, ops = 0): void {
    const now = this.clock.now();
    if (ops > 0) {
      this.appliedOps.push({ at: now, ops });
      this.windowOps += ops;
      this.firstApplyAt ??= now;
    }
    if (offset <= this.appliedOffset) return;
    this.appliedOffset = offset;
    while (this.head < this.samples.length && this.samples[this.head]!.offset <= offset) this.head++;
    if (this.head > 1024 && this.head * 2 > this.samples.length) {
      this.samples = this.samples.slice(this.head);
      this.head = 0;
    }
  }

  /** The source's master_repl_offset (INFO replication), as polled. */
  source(offset: number): void {
    this.sourceOffset = Math.max(this.sourceOffset, offset);
  }

  /** A new replication history (full resync): offsets restart from the snapshot's. */
  reset(offset: number): void {
    this.samples = [];
    this.head = 0;
    this.receivedOffset = offset;
    this.appliedOffset = offset;
    this.sourceOffset = offset;
  }

  /** Offsets only (no rate): what the apply path reads after every batch. */
  get offsets(): { received: number; applied: number } {
    return { received: this.receivedOffset, applied: this.appliedOffset };
  }

  snapshot(): LagSnapshot {
    const now = this.clock.now();
    const oldest = this.samples[this.head];
    const ahead = Math.max(this.sourceOffset, this.receivedOffset);
    return {
      receivedOffset: this.receivedOffset,
      appliedOffset: this.appliedOffset,
      sourceOffset: this.sourceOffset,
      lagBytes: Math.max(0, ahead - this.appliedOffset),
      lagSeconds: oldest ? Math.max(0, now - oldest.at) / 1000 : 0,
      opsPerSecond: this.rate(now),
    };
  }

  private rate(now: number): number {
    const entries = this.appliedOps;
    while (this.opsHead < entries.length && now - entries[this.opsHead]!.at > this.rateWindowMs) {
      this.windowOps -= entries[this.opsHead]!.ops;
      this.opsHead++;
    }
    if (this.opsHead > 1024 && this.opsHead * 2 > entries.length) {
      this.appliedOps = entries.slice(this.opsHead);
      this.opsHead = 0;
    }
    if (this.firstApplyAt === null) return 0;
    const ops = this.windowOps;
    // Early on the window is not full yet: divide by the time actually observed (≥ 1 s, no spikes).
    const span = Math.max(1000, Math.min(this.rateWindowMs, now - this.firstApplyAt));
    return (ops * 1000) / span;
  }
}

/** `master_repl_offset` from an `INFO replication` reply, or null. */
export function parseMasterReplOffset(info: string): number | null {
  const match = /^master_repl_offset:(\d+)\r?$/m.exec(info);
  return match ? Number(match[1]) : null;
}

export interface SourceOffsetPollerOptions {
  /** An ordinary connection to the source master (not the replication link). */
  client: Pick<Redis, "info">;
  onOffset: (offset: number) => void;
  onError?: (err: unknown) => void;
  /** Default 1000 ms. */
  intervalMs?: number;
}

/**
 * Polls the source's `INFO replication` every second, so lag counts bytes the master has written
 * but not yet sent us (a replica link that stalls shows growing lag instead of none).
 */
export function startSourceOffsetPoller(opts: SourceOffsetPollerOptions): {
  stop(): void;
  poll(): Promise<void>;
} {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const poll = async (): Promise<void> => {
    try {
      const offset = parseMasterReplOffset(await opts.client.info("replication"));
      if (offset !== null && !stopped) opts.onOffset(offset);
    } catch (err) {
      if (!stopped) opts.onError?.(err);
    }
  };
  const loop = async (): Promise<void> => {
    await poll();
    if (!stopped) timer = setTimeout(loop, opts.intervalMs ?? 1000);
  };
  void loop();
  return {
    poll,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

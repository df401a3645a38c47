/**
 * End-to-end lag as a user sees it: poll the replica (ferry's target or a native replica) for the
 * probe key every `everyMs`; each new probe value seen gives now − its send time.
 */
import type { Redis } from "ioredis";
import { PROBE_KEY } from "./load.ts";

export class LagProbe {
  private samples: number[] = [];
  private lastSeq = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly replica: Redis,
    private readonly everyMs = 2,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.everyMs);
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const value = await this.replica.get(PROBE_KEY);
      const now = performance.timeOrigin + performance.now();
      if (!value) return;
      const [seqText, atText] = value.split(":");
      const seq = Number(seqText);
      if (seq > this.lastSeq) {
        this.lastSeq = seq;
        this.samples.push(now - Number(atText));
      }
    } catch {
      // a failed poll is just a missing sample
    } finally {
      this.busy = false;
    }
  }

  /** Samples since the last call (ms). */
  take(): number[] {
    return this.samples.splice(0);
  }

  get seenSeq(): number {
    return this.lastSeq;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Token buckets for `--max-ops` and `--max-bytes`: the writer awaits `take(ops, bytes)` before each
 * apply, so a migration never pushes the target (or the network) harder than the user allowed.
 *
 * A take larger than the bucket is granted once the bucket is not in debt, leaving it negative:
 * a 5,000-command batch under `--max-ops 1000` goes through and the next waits ~5 s, so the
 * long-run rate holds without splitting batches (which would break exactly-once units).
 */
import { BadInputError } from "../errors.ts";
import type { Clock } from "../ports.ts";
import { systemClock } from "../ports.ts";

export interface RateLimiterOptions {
  /** Commands per second; absent or 0 = unlimited. */
  opsPerSecond?: number;
  /** Bytes per second; absent or 0 = unlimited. */
  bytesPerSecond?: number;
  /** Bucket size in seconds of rate (default 0.1 s): how much may go at once after an idle spell. */
  burstSeconds?: number;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

class Bucket {
  private tokens: number;
  private updatedAt: number;
  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {
    this.tokens = capacity;
    this.updatedAt = clock.now();
  }

  /** Milliseconds until the bucket is out of debt (0 = may take now). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  spend(amount: number): void {
    this.refill();
    this.tokens -= amount;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.updatedAt = now;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.rate);
  }
}

export class RateLimiter {
  private readonly buckets: Array<{ bucket: Bucket; pick: (ops: number, bytes: number) => number }> = [];
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Takes are granted in call order; each waits for the previous one. */
  private tail: Promise<void> = Promise.resolve();

  constructor(opts: RateLimiterOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const burst = opts.burstSeconds ?? 0.1;
    for (const [rate, pick, flag] of [
      [opts.opsPerSecond, (ops: number) => ops, "--max-ops"],
      [opts.bytesPerSecond, (_ops: number, bytes: number) => bytes, "--max-bytes"],
    ] as const) {
      if (rate === undefined || rate === 0) continue;
      if (!(rate > 0) || !Number.isFinite(rate)) {
        throw new BadInputError(`invalid ${flag}: ${rate}`, `give a positive number, or omit ${flag}`);
      }
      this.buckets.push({ bucket: new Bucket(rate, Math.max(1, rate * burst), this.clock), pick });
    }
  }

  get unlimited(): boolean {
    return this.buckets.length === 0;
  }

  /** Resolves when `ops` commands totalling `bytes` may be sent. */
  take(ops: number, bytes = 0): Promise<void> {
    if (this.unlimited) return Promise.resolve();
    const turn = this.tail.then(async () => {
      for (;;) {
        const wait = Math.max(...this.buckets.map((b) => b.bucket.waitMs()));
        if (wait <= 0) break;
        await this.sleep(wait);
      }
      for (const { bucket, pick } of this.buckets) bucket.spend(pick(ops, bytes));
    });
    this.tail = turn;
    return turn;
  }
}

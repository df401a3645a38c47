import { describe, expect, it } from "vitest";
import { BadInputError } from "../../core/errors.ts";
import { RateLimiter } from "../../core/pipeline/rateLimiter.ts";
import { formatSize, parseSize } from "../../core/pipeline/size.ts";

/** A clock that only moves when the limiter sleeps: measures the schedule exactly. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void> } {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
}

describe("RateLimiter", () => {
  it("holds ops/s within 20% over a second (fake clock)", async () => {
    const time = fakeTime();
    const limiter = new RateLimiter({ opsPerSecond: 1000, clock: time, sleep: time.sleep });
    let ops = 0;
    while (time.now() < 1000) {
      await limiter.take(50);
      ops += 50;
    }
    expect(ops).toBeGreaterThanOrEqual(800);
    expect(ops).toBeLessThanOrEqual(1200);
  });

  it("holds bytes/s within 20% in real time and grants big takes without splitting them", async () => {
    const limiter = new RateLimiter({ bytesPerSecond: 200_000 });
    const started = performance.now();
    let paid = 0; // bytes of the takes already paid for when the latest one was granted
    let grantedAt = 0;
    let bytes = 0;
    while (grantedAt < 1000) {
      await limiter.take(1, 25_000); // larger than the 0.1 s bucket (20,000): goes into debt
      grantedAt = performance.now() - started;
      paid = bytes;
      bytes += 25_000;
    }
    const rate = paid / (grantedAt / 1000);
    expect(rate).toBeGreaterThan(160_000);
    expect(rate).toBeLessThan(240_000);
  });

  it("limits by both buckets and is unlimited when not configured", async () => {
    const time = fakeTime();
    const both = new RateLimiter({ opsPerSecond: 100, bytesPerSecond: 1000, clock: time, sleep: time.sleep });
    for (let i = 0; i < 20; i++) await both.take(1, 100); // bytes bind: 2,000 bytes at 1,000/s
    expect(time.now()).toBeGreaterThanOrEqual(1800);
    expect(time.now()).toBeLessThanOrEqual(2000);
    const free = new RateLimiter();
    expect(free.unlimited).toBe(true);
    await free.take(1e9, 1e12);
    expect(() => new RateLimiter({ opsPerSecond: -1 })).toThrow(BadInputError);
  });
});

describe("parseSize", () => {
  it.each([
    ["64mb", 64 * 1024 ** 2],
    ["10MiB", 10 * 1024 ** 2],
    ["512k", 512 * 1024],
    ["1.5g", 1.5 * 1024 ** 3],
    ["4096", 4096],
    [" 2 KB ", 2048],
    [100, 100],
  ] as const)("%s → %d", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it("rejects garbage with a BadInputError naming the option", () => {
    expect(() => parseSize("12 parsecs", "--big-key-threshold")).toThrow(/--big-key-threshold/);
    expect(() => parseSize("-1")).toThrow(BadInputError);
    expect(() => parseSize("")).toThrow(BadInputError);
    expect(formatSize(1536)).toBe("1.5KiB");
    expect(formatSize(100)).toBe("100B");
  });
});

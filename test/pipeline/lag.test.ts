import { describe, expect, it } from "vitest";
import { LagTracker, parseMasterReplOffset, startSourceOffsetPoller } from "../../core/pipeline/lag.ts";
import { startRedis, waitFor } from "../helpers/redis.ts";

describe("LagTracker", () => {
  it("measures lag seconds as the age of the oldest unapplied byte", () => {
    let now = 0;
    const lag = new LagTracker({ clock: { now: () => now } });
    lag.received(100);
    now = 1000;
    lag.received(200);
    now = 1500;
    lag.source(260);
    expect(lag.snapshot()).toMatchObject({
      receivedOffset: 200,
      appliedOffset: 0,
      lagBytes: 260,
      lagSeconds: 1.5,
    });
    lag.applied(100, 10);
    expect(lag.snapshot()).toMatchObject({ appliedOffset: 100, lagBytes: 160, lagSeconds: 0.5 });
    now = 2000;
    lag.applied(200, 10);
    expect(lag.snapshot()).toMatchObject({ lagSeconds: 0, lagBytes: 60 });
  });

  it("averages ops/s over its window", () => {
    let now = 0;
    const lag = new LagTracker({ clock: { now: () => now }, rateWindowMs: 2000 });
    for (let i = 0; i < 40; i++) {
      now += 100;
      lag.applied(i * 10, 50); // 500 ops/s
    }
    expect(lag.snapshot().opsPerSecond).toBeGreaterThan(450);
    expect(lag.snapshot().opsPerSecond).toBeLessThan(550);
    now += 10_000;
    expect(lag.snapshot().opsPerSecond).toBe(0);
  });

  it("follows a rate change across thousands of applies (running sum, compacted window)", () => {
    let now = 0;
    const lag = new LagTracker({ clock: { now: () => now }, rateWindowMs: 1000 });
    for (let i = 0; i < 5000; i++) {
      now += 1;
      lag.applied(i, 1); // 1000 ops/s
      if (i % 500 === 499) lag.snapshot(); // read now and then, as the status line does
    }
    expect(lag.snapshot().opsPerSecond).toBeCloseTo(1000, -1);
    for (let i = 0; i < 5000; i++) {
      now += 1;
      lag.applied(5000 + i, 3); // 3000 ops/s
      if (i % 700 === 0) lag.snapshot();
    }
    expect(lag.snapshot().opsPerSecond).toBeCloseTo(3000, -1);
    expect(lag.offsets).toEqual({ received: 0, applied: 9999 });
  });

  it("keeps samples bounded under a steady stream", () => {
    let now = 0;
    const lag = new LagTracker({ clock: { now: () => now }, sampleEveryMs: 10 });
    for (let i = 1; i <= 100_000; i++) {
      now += 1;
      lag.received(i * 10);
      if (i % 100 === 0) lag.applied((i - 50) * 10);
    }
    // ~50 ms of unapplied stream left: lag ≈ 0.05 s, not the whole run.
    expect(lag.snapshot().lagSeconds).toBeLessThanOrEqual(0.06);
  });
});

describe("source offset poller", () => {
  it("reads master_repl_offset from INFO replication and sees it grow", async () => {
    expect(parseMasterReplOffset("# Replication\r\nrole:master\r\nmaster_repl_offset:1234\r\n")).toBe(1234);
    expect(parseMasterReplOffset("role:master\r\n")).toBeNull();
    const source = await startRedis();
    const replica = await startRedis({ replicaOf: source }); // a backlog exists only with a replica
    const client = source.client();
    const seen: number[] = [];
    const poller = startSourceOffsetPoller({ client, onOffset: (o) => seen.push(o), intervalMs: 50 });
    try {
      await waitFor(() => seen.length > 0);
      const before = seen[seen.length - 1]!;
      for (let i = 0; i < 50; i++) await client.set(`k${i}`, "v".repeat(100));
      await waitFor(() => seen[seen.length - 1]! > before + 50 * 100);
    } finally {
      poller.stop();
      await replica.stop();
      await source.stop();
    }
  });
});

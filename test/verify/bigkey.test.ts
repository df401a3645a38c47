import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runVerify } from "../../core/verify/run.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

// Heap numbers only mean something right after a full GC; expose gc() for this file.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const ELEMENTS = 200_000;
const ELEMENT_BYTES = 100;

describe("ferry verify: one element changed in a 200k-element list", () => {
  let source: RedisProc;
  let target: RedisProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    for (const proc of [source, target]) {
      const client = proc.client();
      for (let i = 0; i < ELEMENTS; i += 2000) {
        const chunk = Array.from(
          { length: 2000 },
          (_, j) => `${String(i + j).padStart(8, "0")}${"x".repeat(ELEMENT_BYTES - 8)}`,
        );
        await client.rpush("big", ...chunk);
      }
    }
    await target.client().lset("big", 123_456, "changed");
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("is found, and memory stays bounded by the page size", async () => {
    gc();
    const base = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
    }, 20);
    const report = await runVerify({
      source: { host: "127.0.0.1", port: source.port },
      target: { host: "127.0.0.1", port: target.port },
      options: { recheckDelayMs: 10, rechecks: 1 },
    }).finally(() => clearInterval(sampler));
    expect(report.differences.map((d) => [d.key.toString(), d.reason])).toEqual([
      ["big", "list element 123456 differs"],
    ]);
    // Two pages (source + target) of 500 elements at a time, never the 2 × 200k elements.
    expect(report.peakElementsHeld).toBeLessThanOrEqual(1000);
    // The whole list as Buffers would take > 2 × 20 MB; the compare's live growth stays far below.
    console.log(
      `verify of a ${ELEMENTS}-element list: ${report.elapsedMs} ms, peak live heap growth ${(peak / 1048576).toFixed(1)} MiB`,
    );
    expect(peak).toBeLessThan(8 * 1024 * 1024);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { type BigDump, buildBigDump, parseBigDump } from "./bigDump.ts";

/**
 * Memory stays bounded by threshold + chunk size, not by the key: a 48 MB list and a 24 MB string
 * parsed with a 4 MiB threshold. The 200 MB + 100 MB variant is bench/rdb-big.ts.
 */
const MiB = 1024 * 1024;
let server: RedisProc;
let dump: BigDump;

beforeAll(async () => {
  server = await startRedis();
  dump = await buildBigDump(server, 48 * MiB, 24 * MiB);
});

afterAll(async () => {
  await server?.stop();
});

describe("big keys stream in chunks with bounded memory", () => {
  it("parses a 72 MB dump fed 1 MiB at a time within a fixed memory bound", () => {
    const before = process.memoryUsage();
    const result = parseBigDump(dump.path, { bigKeyThreshold: 4 * MiB, chunkBytes: 256 * 1024 }, MiB);
    expect(result.listElements).toBe(dump.listElements);
    expect(result.firstElement).toEqual(dump.firstElement);
    expect(result.lastElement).toEqual(dump.lastElement);
    expect(result.stringBytes).toBe(dump.stringBytes);
    expect(result.stringCrc).toBe(dump.stringCrc);
    expect(result.smallKeys).toBe(1);
    // A chunk holds about chunkBytes of elements (one node's worth of overshoot at most).
    expect(result.maxChunkItemsBytes).toBeLessThan(256 * 1024 + 64 * 1024);
    const baseline = before.heapUsed + before.arrayBuffers;
    expect(result.peakMemory - baseline).toBeLessThan(64 * MiB);
    expect(result.peakMemory).toBeLessThan(128 * MiB);
    console.log(
      `parsed ${(result.fileBytes / MiB).toFixed(0)} MiB in ${result.seconds.toFixed(2)} s ` +
        `(${(result.fileBytes / MiB / result.seconds).toFixed(0)} MiB/s), peak ${(result.peakMemory / MiB).toFixed(0)} MiB`,
    );
  });
});

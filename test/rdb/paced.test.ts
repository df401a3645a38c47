import { describe, expect, it } from "vitest";
import { createRdbParser, drainParser } from "../../core/rdb/parser.ts";
import type { RdbEvent, RdbParserOptions } from "../../core/rdb/types.ts";
import { startRedis } from "../helpers/redis.ts";
import { CORRUPT_FILES, corpusFiles, parseEvents, rng } from "./helpers.ts";

/**
 * outputBudget: the parser stops after emitting about that many bytes of values and goes on with
 * continue(). Pausing anywhere must not change a single event, and no call may emit much more than
 * the budget, however far compressed input expands.
 */

/** Bytes of values in an event (what the budget counts, roughly). */
function valueBytes(e: RdbEvent): number {
  if (e.kind === "key-dump") return e.dump.length;
  if (e.kind === "key-chunk") return sizeOf(e.chunk.value);
  return 0;
}

function sizeOf(v: unknown): number {
  if (Buffer.isBuffer(v)) return v.length;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + sizeOf(x), 0);
  if (v !== null && typeof v === "object") return Object.values(v).reduce((n: number, x) => n + sizeOf(x), 0);
  return 8;
}

/** Parses with a budget, feeding `sizes`-long writes and continuing after every pause. */
function parsePaced(bytes: Buffer, options: RdbParserOptions, nextSize: () => number) {
  const events: RdbEvent[] = [];
  const perCall: number[] = [];
  let call = 0;
  const parser = createRdbParser(options, (e) => {
    events.push(e);
    call += valueBytes(e);
  });
  let pauses = 0;
  const settle = () => {
    perCall.push(call);
    call = 0;
    while (parser.paused) {
      pauses++;
      parser.continue();
      perCall.push(call);
      call = 0;
    }
  };
  for (let at = 0; at < bytes.length; ) {
    const n = Math.max(1, nextSize());
    parser.write(bytes.subarray(at, at + n));
    settle();
    at += n;
  }
  parser.end();
  settle();
  expect(parser.finished).toBe(true);
  return { events, pauses, perCall };
}

describe("RDB parser output budget", () => {
  const files = corpusFiles().filter(([name]) => !CORRUPT_FILES.has(name));

  for (const [label, options] of [
    ["decoding", { bigKeyThreshold: 64, chunkBytes: 32 }],
    ["dumps", { captureRaw: true, dumps: () => true, bigKeyThreshold: 200, chunkBytes: 64 }],
  ] as Array<[string, RdbParserOptions]>) {
    it(`pausing after every value changes no event on any corpus file (${label})`, () => {
      const random = rng(7);
      let pauses = 0;
      for (const [name, bytes] of files) {
        const expected = parseEvents(bytes, options);
        const paced = parsePaced(
          bytes,
          { ...options, outputBudget: 1 },
          () => 1 + Math.floor(random() * 300),
        );
        expect(paced.events, name).toEqual(expected);
        pauses += paced.pauses;
      }
      expect(pauses).toBeGreaterThan(files.length);
    });
  }

  it("a 64 MiB compressible list, string and stream in a small RDB: no call emits much more than the budget", async () => {
    const server = await startRedis();
    try {
      const client = server.client();
      const value = Buffer.alloc(1000, 0x61); // LZF shrinks each node ~50×
      for (let i = 0; i < 64 * 1024; i += 1024) {
        const pipe = client.pipeline();
        for (let j = i; j < i + 1024; j++) {
          pipe.rpush("list", value);
          pipe.xadd("stream", "*", "f", value);
          pipe.append("string", value);
        }
        await pipe.exec();
      }
      await client.save();
      const { readFileSync } = await import("node:fs");
      const rdb = readFileSync(`${server.dir}/dump.rdb`);
      expect(rdb.length).toBeLessThan(16 * 1024 * 1024); // 3 × 64 MiB of values
      const budget = 1024 * 1024;
      const options: RdbParserOptions = {
        captureRaw: true,
        dumps: () => true,
        bigKeyThreshold: 4 * budget,
        chunkBytes: budget / 4,
      };
      const paced = parsePaced(rdb, { ...options, outputBudget: budget }, () => 256 * 1024);
      // The string (LZF header) and the stream (decoded size) are big and come in chunks; the list,
      // 64 MiB decoded but ~1 MB encoded, comes as its compressed RESTORE payload.
      const total = paced.perCall.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(2 * 60 * 1024 * 1024);
      const begun = paced.events.filter((e) => e.kind === "key-begin").map((e) => String(e.meta.key));
      expect(begun.sort()).toEqual(["stream", "string"]);
      const list = paced.events.find((e) => e.kind === "key-dump" && String(e.meta.key) === "list");
      expect(list?.kind === "key-dump" && list.dump.length).toBeLessThan(4 * budget);
      // At most the budget + the chunk that crossed it, except once per big key: what was held up
      // to the threshold before the key was known to be big goes out in one call.
      const bound = options.bigKeyThreshold! + budget + 2 * options.chunkBytes!;
      expect(Math.max(...paced.perCall)).toBeLessThan(bound);
      expect(paced.perCall.filter((n) => n > budget + 2 * options.chunkBytes!).length).toBeLessThanOrEqual(2);
      // Unpaced, the same file comes out of a handful of calls far above the budget.
      const unpaced = parsePaced(rdb, options, () => 256 * 1024);
      expect(Math.max(...unpaced.perCall)).toBeGreaterThan(16 * budget);
      // Without dumps (a consumer that decodes everything), the list is big by decoded size too.
      const decoding = parsePaced(
        rdb,
        { ...options, dumps: () => false, outputBudget: budget },
        () => 256 * 1024,
      );
      const decodedBig = decoding.events.filter((e) => e.kind === "key-begin").map((e) => String(e.meta.key));
      expect(decodedBig.sort()).toEqual(["list", "stream", "string"]);
      const encodedOnly = parsePaced(
        rdb,
        { ...options, dumps: () => false, bigByDecodedSize: false, outputBudget: budget },
        () => 256 * 1024,
      );
      expect(encodedOnly.events.some((e) => e.kind === "key" && String(e.meta.key) === "list")).toBe(true);
      // drainParser runs the consumer after every pause.
      let drains = 0;
      const parser = createRdbParser({ ...options, outputBudget: budget }, () => {});
      parser.write(rdb);
      await drainParser(parser, async () => {
        drains++;
      });
      parser.end();
      await drainParser(parser, async () => {
        drains++;
      });
      expect(parser.finished).toBe(true);
      expect(drains).toBeGreaterThan(100);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

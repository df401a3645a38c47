import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RdbFormatError } from "../../core/rdb/errors.ts";
import { dumpPayload, parseDumpPayload } from "../../core/rdb/payload.ts";
import type { RdbEvent, RdbParserOptions } from "../../core/rdb/types.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { CORRUPT_FILES, corpusFiles, parseEvents, rng } from "./helpers.ts";

/**
 * The `dumps` mode skips decoding: every key it hands over as `key-dump` must carry exactly the
 * payload the decoding path's raw capture would have given, and everything else (big keys in
 * chunks, streams, modules, empty collections dropped) must come out as before.
 */

const files = corpusFiles().filter(([name]) => !CORRUPT_FILES.has(name));

/** The decoding path's events, with whole non-stream/module keys turned into what dumps mode emits. */
function expectedDumps(events: RdbEvent[]): RdbEvent[] {
  let version = 0;
  return events.map((e) => {
    if (e.kind === "header") version = e.version;
    if (e.kind !== "key" || e.value.type === "stream" || e.value.type === "module") return e;
    if (!e.raw) throw new Error("captureRaw gave no raw bytes");
    return {
      kind: "key-dump",
      meta: e.meta,
      valueType: e.value.type,
      dump: dumpPayload(e.meta.rdbType, e.raw, version),
    };
  });
}

const SETTINGS: Array<[string, RdbParserOptions]> = [
  ["default thresholds", {}],
  // Small thresholds make many keys big: the skipper gives up mid-value and the decoder rewinds.
  ["big-key threshold 64 B", { bigKeyThreshold: 64, chunkBytes: 32 }],
];

describe("dumps mode", () => {
  for (const [label, options] of SETTINGS) {
    it(`gives the decoding path's payloads on every corpus file (${label}, whole and 1–97 byte feeds)`, () => {
      const random = rng(7);
      let dumped = 0;
      for (const [name, bytes] of files) {
        // The reference judges bigness by encoded size only, as dumps mode does for what it skips.
        const decoded = parseEvents(bytes, { ...options, captureRaw: true, bigByDecodedSize: false });
        const expected = expectedDumps(decoded);
        const whole = parseEvents(bytes, { ...options, captureRaw: true, dumps: () => true });
        expect(whole, name).toEqual(expected);
        const split = parseEvents(
          bytes,
          { ...options, captureRaw: true, dumps: () => true },
          () => 1 + Math.floor(random() * 97),
        );
        expect(split, name).toEqual(expected);
        dumped += whole.filter((e) => e.kind === "key-dump").length;
      }
      expect(dumped).toBeGreaterThan(100);
    });
  }

  it("drops empty collections like the decoder (valkey corrupt_empty_keys.rdb)", () => {
    const [, bytes] = corpusFiles().find(([name]) => name === "valkey-tests/corrupt_empty_keys.rdb")!;
    const decoded = parseEvents(bytes, { captureRaw: true, bigByDecodedSize: false });
    const dumps = parseEvents(bytes, { captureRaw: true, dumps: () => true });
    expect(dumps).toEqual(expectedDumps(decoded));
    expect(dumps.some((e) => e.kind === "key-dump")).toBe(false);
  });

  it("is asked once with the header's magic and version; false keeps the decoded events", () => {
    const [, bytes] = files.find(([name]) => name === "generated/redis-7.0.15.rdb")!;
    const asked: Array<[string, number]> = [];
    const events = parseEvents(bytes, {
      dumps: (magic, version) => {
        asked.push([magic, version]);
        return false;
      },
    });
    expect(asked).toEqual([["REDIS", 10]]);
    expect(events).toEqual(parseEvents(bytes));
  });

  it("fails corrupt input with RdbFormatError only (2,000 mutations)", () => {
    const random = rng(99);
    let errors = 0;
    for (let i = 0; i < 2000; i++) {
      const [, src] = files[Math.floor(random() * files.length)]!;
      const out = Buffer.from(src);
      const at = Math.floor(random() * out.length);
      if (i % 3 === 0) {
        out[at] = random() < 0.5 ? 0x80 : 0x81;
        for (let j = 1; j < 9 && at + j < out.length; j++) out[at + j] = 0xff - Math.floor(random() * 4);
      } else {
        out[at] = Math.floor(random() * 256);
      }
      const bytes = i % 5 === 0 ? out.subarray(0, at) : out;
      try {
        parseEvents(bytes, { dumps: () => true, bigKeyThreshold: i % 2 ? 256 : 1 << 20 }, () =>
          i % 4 === 0 ? 1 + Math.floor(random() * 64) : bytes.length,
        );
      } catch (err) {
        if (!(err instanceof RdbFormatError)) throw new Error(`case ${i}: unexpected ${String(err)}`);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(500);
  });
});

describe("dumps mode against redis-server 7.0", () => {
  let redis: RedisProc;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("every key-dump of the 7.0 corpus file RESTOREs as a key of its type", async () => {
    const [, bytes] = files.find(([name]) => name === "generated/redis-7.0.15.rdb")!;
    const dumps = parseEvents(bytes, { dumps: () => true }).filter(
      (e): e is Extract<RdbEvent, { kind: "key-dump" }> => e.kind === "key-dump",
    );
    expect(dumps.length).toBeGreaterThan(10);
    const client = redis.client();
    await client.flushall();
    for (const [i, e] of dumps.entries()) {
      const key = Buffer.concat([Buffer.from(`${i}:`), e.meta.key]);
      await client.restore(key, 0, e.dump);
      const back = await client.dumpBuffer(key);
      // The key exists with the type the type byte named, and DUMP works on it again.
      expect(parseDumpPayload(back).rdbVersion).toBe(10);
      expect(await client.type(key)).toBe(e.valueType);
    }
    expect(await client.dbsize()).toBe(dumps.length);
  });
});

/** compileGlob agrees with the real server's KEYS pattern matching (util.c stringmatchlen). */
import fc from "fast-check";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileGlob } from "../../core/filters/glob.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const KEYS = [
  "user:1",
  "user:12",
  "user:a",
  "user:",
  "users",
  "hello",
  "hallo",
  "hxllo",
  "heeeello",
  "a*b",
  "a?b",
  "axb",
  "a\\b",
  "[x]",
  "x]",
  "-",
  "z",
  "",
  "emoji:\u{1f600}",
];

const PATTERNS = [
  "*",
  "user:*",
  "user:?",
  "user:[0-9]*",
  "user:[^0-9]*",
  "h?llo",
  "h*llo",
  "h[ae]llo",
  "h[^e]llo",
  "h[a-b]llo",
  "h[b-a]llo",
  "a\\*b",
  "a\\?b",
  "a[*]b",
  "a\\\\b",
  "*]",
  "\\[x\\]",
  "[",
  "[x",
  "[]x]",
  "[-]",
  "[a-]*",
  "*:*:*",
  "**user**",
  "emoji:?",
  "emoji:*",
  "a\\",
];

describe("Redis glob semantics", () => {
  let redis: RedisProc;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    // The empty key cannot be SET; keep it out of the server comparison.
    for (const key of KEYS) if (key) await client.set(key, "1");
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("matches exactly the keys KEYS <pattern> returns", async () => {
    for (const pattern of PATTERNS) {
      const expected = ((await client.keysBuffer(pattern)) as Buffer[]).map((k) => k.toString("hex")).sort();
      const match = compileGlob(pattern);
      const actual = KEYS.filter((k) => k && match(Buffer.from(k)))
        .map((k) => Buffer.from(k).toString("hex"))
        .sort();
      expect(actual, `pattern ${pattern}`).toEqual(expected);
    }
  });

  it("agrees with KEYS on random patterns over glob metacharacters", async () => {
    await client.select(1);
    const alphabet = ["a", "b", "-", "^", "]", "[", "*", "?", "\\"];
    const keys = fc.sample(fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 5 }), {
      numRuns: 150,
      seed: 7,
    });
    const unique = [...new Set(keys)];
    for (const key of unique) await client.set(key, "1");
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 7 }), async (pattern) => {
        const expected = (await client.keys(pattern)).sort();
        const match = compileGlob(pattern);
        expect(unique.filter((k) => match(Buffer.from(k))).sort(), `pattern ${pattern}`).toEqual(expected);
      }),
      { numRuns: 300, seed: 11 },
    );
    await client.select(0);
  });

  it("treats the empty key like Redis would", () => {
    expect(compileGlob("*")(Buffer.alloc(0))).toBe(true);
    expect(compileGlob("?")(Buffer.alloc(0))).toBe(false);
  });
});

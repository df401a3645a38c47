import { describe, expect, it } from "vitest";
import { RdbFormatError } from "../../core/rdb/errors.ts";
import { CORRUPT_FILES, corpusFiles, parseEvents, rng } from "./helpers.ts";

/**
 * Corrupt input must end in RdbFormatError (or a clean parse when the mutation is harmless), never
 * a hang, a crash with another error, or an allocation sized by a corrupt length.
 */
const CASES = 10_000;
const PER_CASE_MS = 2_000;

function mutate(src: Buffer, random: () => number): Buffer {
  const pick = random();
  const at = Math.floor(random() * src.length);
  if (pick < 0.2) return src.subarray(0, at); // truncation
  const out = Buffer.from(src);
  if (pick < 0.6) {
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    return out;
  }
  if (pick < 0.8) {
    // Lengths are where corruption hurts: plant a 32/64-bit length marker with big values.
    out[at] = random() < 0.5 ? 0x80 : 0x81;
    for (let i = 1; i < 9 && at + i < out.length; i++) out[at + i] = 0xff - Math.floor(random() * 4);
    return out;
  }
  const insert = Buffer.from(
    Array.from({ length: 1 + Math.floor(random() * 16) }, () => Math.floor(random() * 256)),
  );
  return Buffer.concat([out.subarray(0, at), insert, out.subarray(at)]);
}

describe("fuzz: mutated and truncated corpus files", () => {
  it(`${CASES} cases end in RdbFormatError or a clean parse, each within ${PER_CASE_MS} ms`, () => {
    const files = corpusFiles()
      .filter(([name]) => !CORRUPT_FILES.has(name))
      .map(([, bytes]) => bytes);
    const random = rng(20241025);
    let errors = 0;
    let clean = 0;
    let slowest = 0;
    for (let i = 0; i < CASES; i++) {
      const src = files[Math.floor(random() * files.length)]!;
      const bytes = mutate(src, random);
      const started = performance.now();
      try {
        // Alternate whole and chunked feeds: the resumable paths must fail the same way.
        parseEvents(bytes, { captureRaw: i % 2 === 0, bigKeyThreshold: i % 3 === 0 ? 256 : 1 << 20 }, () =>
          i % 4 === 0 ? 1 + Math.floor(random() * 64) : bytes.length,
        );
        clean++;
      } catch (err) {
        if (!(err instanceof RdbFormatError))
          throw new Error(`case ${i}: unexpected ${String(err)}`, { cause: err });
        errors++;
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(errors + clean).toBe(CASES);
    expect(errors).toBeGreaterThan(CASES / 2);
    expect(slowest).toBeLessThan(PER_CASE_MS);
  });
});

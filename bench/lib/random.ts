/** Seeded PRNG (mulberry32): the same seed fills the same dataset on every run and machine. */
import type { Rng } from "../../test/helpers/random.ts";

export { mulberry32 as seeded, type Rng } from "../../test/helpers/random.ts";

export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/**
 * Incompressible bytes to slice values from: LZF gives up on random data, so the RDB is about as
 * large as the values in memory and MB/s figures mean what they say.
 */
export function noise(rng: Rng, bytes = 1 << 20): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

export function slice(rng: Rng, pool: Buffer, length: number): Buffer {
  const at = Math.floor(rng() * (pool.length - length));
  return pool.subarray(at, at + length);
}

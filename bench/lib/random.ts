/** Seeded PRNG (mulberry32): the same seed fills the same dataset on every run and machine. */
export type Rng = () => number;

export function seeded(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

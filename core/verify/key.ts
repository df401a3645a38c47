/** One key, source vs target: existence, type, value by contents, TTL within a tolerance. */
import { call, type Reader } from "./sides.ts";
import { compareStream } from "./stream.ts";
import type { DifferenceKind, VerifyOptions } from "./types.ts";
import {
  type CompareContext,
  compareHash,
  compareList,
  compareSet,
  compareString,
  compareZset,
  type Meter,
  type Verdict,
} from "./values.ts";

const COMPARERS = {
  string: compareString,
  list: compareList,
  hash: compareHash,
  set: compareSet,
  zset: compareZset,
  stream: compareStream,
} as const satisfies Record<string, (ctx: CompareContext, fast: boolean) => Promise<Verdict>>;

export type KeyOutcome = { kind: "equal" } | { kind: "vanished" } | { kind: DifferenceKind; reason: string };

export interface KeyPair {
  source: Reader;
  target: Reader;
  key: Buffer;
}

/** TYPE + PTTL on both sides; concurrent calls of a batch are pipelined on each connection. */
async function probe(reader: Reader, key: Buffer): Promise<{ type: string; pttl: number }> {
  const [type, pttl] = await Promise.all([call(reader, "TYPE", key), call(reader, "PTTL", key)]);
  return { type: String(type), pttl: Number(pttl) };
}

export async function compareKey(pair: KeyPair, opts: VerifyOptions, meter: Meter): Promise<KeyOutcome> {
  const [a, b] = await Promise.all([probe(pair.source, pair.key), probe(pair.target, pair.key)]);
  if (a.type === "none") return { kind: "vanished" };
  if (b.type === "none") return { kind: "missing", reason: `missing on target (source: ${a.type})` };
  if (a.type !== b.type)
    return { kind: "different", reason: `type ${a.type} on source, ${b.type} on target` };
  const comparer = COMPARERS[a.type as keyof typeof COMPARERS];
  if (comparer) {
    const ctx: CompareContext = {
      source: pair.source,
      target: pair.target,
      key: pair.key,
      pageSize: opts.batchSize,
      wholeValueMaxElements: opts.wholeValueMaxElements,
      stringSliceBytes: opts.stringSliceBytes,
      meter,
    };
    const verdict = await comparer(ctx, opts.mode === "fast");
    if (verdict) return { kind: "different", reason: verdict };
  }
  // Module types and anything newer: type equality is all ferry can check without the module.
  const ttl = ttlVerdict(a.pttl, b.pttl, opts.ttlToleranceMs);
  return ttl ? { kind: "ttl", reason: ttl } : { kind: "equal" };
}

/** PTTL: -1 = no expiry; -2 = gone (then TYPE said none first, barring a race handled by recheck). */
export function ttlVerdict(source: number, target: number, toleranceMs: number): string | null {
  if (source < 0 && target < 0) return null;
  if (source >= 0 && target < 0) return `TTL ${source} ms on source, none on target`;
  if (source < 0 && target >= 0) return `no TTL on source, ${target} ms on target`;
  if (Math.abs(source - target) > toleranceMs)
    return `TTL ${source} ms on source, ${target} ms on target (tolerance ${toleranceMs} ms)`;
  return null;
}

/** For the target pass: does the key exist on the source? */
export async function existsOn(reader: Reader, key: Buffer): Promise<boolean> {
  return Number(await call(reader, "EXISTS", key)) === 1;
}

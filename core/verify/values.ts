/**
 * Value comparison by contents, not encoding (a listpack on one side and a hashtable on the other
 * are equal if their elements are). Memory is bounded by one page per side: big collections are read
 * in ranges (lists, zsets) or scanned on the source and probed on the target (hashes, sets). Probing is
 * exact — unlike XOR/sum digests, which a SCAN that returns an element twice (it may, during rehash)
 * would corrupt — and it names the element that differs.
 */
import { printableKey } from "../check/bigkeys.ts";
import { call, type Reader } from "./sides.ts";

export interface CompareContext {
  source: Reader;
  target: Reader;
  key: Buffer;
  pageSize: number;
  wholeValueMaxElements: number;
  stringSliceBytes: number;
  meter: Meter;
}

/** Counts value elements held in memory by compares, to prove (and test) the bound. */
export class Meter {
  current = 0;
  peak = 0;
  hold(n: number): void {
    this.current += n;
    if (this.current > this.peak) this.peak = this.current;
  }
  release(n: number): void {
    this.current -= n;
  }
}

/** null = equal; otherwise why not. */
export type Verdict = string | null;

async function both(
  ctx: CompareContext,
  command: string,
  ...args: Array<string | Buffer | number>
): Promise<[unknown, unknown]> {
  return Promise.all([
    call(ctx.source, command, ctx.key, ...args),
    call(ctx.target, command, ctx.key, ...args),
  ]);
}

async function lengths(
  ctx: CompareContext,
  command: string,
  what: string,
): Promise<{ n: number; verdict: Verdict }> {
  const [a, b] = await both(ctx, command);
  const n = Number(a);
  return { n, verdict: n === Number(b) ? null : `${what} ${n} on source, ${Number(b)} on target` };
}

export async function compareString(ctx: CompareContext, fast: boolean): Promise<Verdict> {
  const { n, verdict } = await lengths(ctx, "STRLEN", "string length");
  if (verdict) return verdict;
  // Fast mode still compares small strings: one GET costs about what STRLEN did.
  if (fast && n > 64 * 1024) return null;
  const slice = ctx.stringSliceBytes;
  for (let from = 0; from < n; from += slice) {
    const [a, b] =
      n <= slice ? await both(ctx, "GET") : await both(ctx, "GETRANGE", from, Math.min(n, from + slice) - 1);
    if (!(a as Buffer).equals(b as Buffer))
      return n <= slice
        ? "string value differs"
        : `string bytes ${from}–${Math.min(n, from + slice) - 1} differ`;
  }
  return null;
}

export async function compareList(ctx: CompareContext, fast: boolean): Promise<Verdict> {
  const { n, verdict } = await lengths(ctx, "LLEN", "list length");
  if (verdict || fast) return verdict;
  for (let start = 0; start < n; start += ctx.pageSize) {
    const [a, b] = (await both(ctx, "LRANGE", start, start + ctx.pageSize - 1)) as [Buffer[], Buffer[]];
    ctx.meter.hold(a.length + b.length);
    try {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const x = a[i];
        const y = b[i];
        if (!x || !y || !x.equals(y)) return `list element ${start + i} differs`;
      }
    } finally {
      ctx.meter.release(a.length + b.length);
    }
  }
  return null;
}

export async function compareZset(ctx: CompareContext, fast: boolean): Promise<Verdict> {
  const { n, verdict } = await lengths(ctx, "ZCARD", "zset size");
  if (verdict || fast) return verdict;
  // Zsets are ordered by (score, member) on every encoding, so equal zsets give identical ranges.
  for (let start = 0; start < n; start += ctx.pageSize) {
    const [a, b] = (await both(ctx, "ZRANGE", start, start + ctx.pageSize - 1, "WITHSCORES")) as [
      Buffer[],
      Buffer[],
    ];
    ctx.meter.hold(a.length + b.length);
    try {
      for (let i = 0; i < Math.max(a.length, b.length); i += 2) {
        const [m1, s1, m2, s2] = [a[i], a[i + 1], b[i], b[i + 1]];
        if (!m1 || !m2 || !s1 || !s2) return `zset range at ${start} differs`;
        if (!m1.equals(m2)) {
          return `zset member ${printableKey(m1)} differs (target has ${printableKey(m2)} at rank ${start + i / 2})`;
        }
        if (parseScore(s1) !== parseScore(s2))
          return `zset member ${printableKey(m1)} score ${s1} on source, ${s2} on target`;
      }
    } finally {
      ctx.meter.release(a.length + b.length);
    }
  }
  return null;
}

/** Redis prints ±inf as "inf"/"-inf"; formats of finite doubles differ across versions. */
function parseScore(text: Buffer): number {
  const s = text.toString().toLowerCase();
  if (s === "inf" || s === "+inf") return Number.POSITIVE_INFINITY;
  if (s === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(s);
}

export async function compareHash(ctx: CompareContext, fast: boolean): Promise<Verdict> {
  const { n, verdict } = await lengths(ctx, "HLEN", "hash size");
  if (verdict || fast) return verdict;
  if (n <= ctx.wholeValueMaxElements) {
    const [a, b] = (await both(ctx, "HGETALL")) as [Buffer[], Buffer[]];
    ctx.meter.hold(a.length + b.length);
    try {
      const target = new Map<string, Buffer>();
      for (let i = 0; i + 1 < b.length; i += 2) target.set(b[i]!.toString("latin1"), b[i + 1]!);
      return diffFields(a, (f) => target.get(f.toString("latin1")) ?? null);
    } finally {
      ctx.meter.release(a.length + b.length);
    }
  }
  return scanAndProbe(ctx, "HSCAN", 2, async (fields) => {
    const values = (await call(ctx.target, "HMGET", ctx.key, ...fields)) as Array<Buffer | null>;
    return (i) => values[i] ?? null;
  });
}

function diffFields(pairs: Buffer[], lookup: (field: Buffer, i: number) => Buffer | null): Verdict {
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const field = pairs[i]!;
    const other = lookup(field, i / 2);
    if (other === null) return `hash field ${printableKey(field)} missing on target`;
    if (!other.equals(pairs[i + 1]!)) return `hash field ${printableKey(field)} differs`;
  }
  return null;
}

export async function compareSet(ctx: CompareContext, fast: boolean): Promise<Verdict> {
  const { n, verdict } = await lengths(ctx, "SCARD", "set size");
  if (verdict || fast) return verdict;
  if (n <= ctx.wholeValueMaxElements) {
    const [a, b] = (await both(ctx, "SMEMBERS")) as [Buffer[], Buffer[]];
    ctx.meter.hold(a.length + b.length);
    try {
      const sa = [...a].sort(Buffer.compare);
      const sb = [...b].sort(Buffer.compare);
      for (let i = 0; i < sa.length; i++) {
        if (!sb[i] || !sa[i]!.equals(sb[i]!)) return `set member ${printableKey(sa[i]!)} missing on target`;
      }
      return null;
    } finally {
      ctx.meter.release(a.length + b.length);
    }
  }
  return scanAndProbe(ctx, "SSCAN", 1, async (members) => {
    const found = (await smismember(ctx.target, ctx.key, members)) as number[];
    return (i) => (found[i] === 1 ? members[i]! : null);
  });
}

async function smismember(target: Reader, key: Buffer, members: Buffer[]): Promise<number[]> {
  try {
    return (await call(target, "SMISMEMBER", key, ...members)) as number[];
  } catch (err) {
    // SMISMEMBER is Redis 6.2+; older targets answer one member at a time (pipelined).
    if (!/unknown command/i.test((err as Error).message)) throw err;
    return Promise.all(members.map((m) => call(target, "SISMEMBER", key, m) as Promise<number>));
  }
}

/**
 * Sizes are equal (checked before); every source element found equal on the target then proves the
 * collections equal. A duplicate from SCAN is just probed twice.
 */
async function scanAndProbe(
  ctx: CompareContext,
  command: "HSCAN" | "SSCAN",
  stride: 1 | 2,
  probe: (elements: Buffer[]) => Promise<(i: number) => Buffer | null>,
): Promise<Verdict> {
  let cursor = "0";
  do {
    const [next, items] = (await call(ctx.source, command, ctx.key, cursor, "COUNT", ctx.pageSize)) as [
      Buffer,
      Buffer[],
    ];
    cursor = next.toString();
    ctx.meter.hold(items.length * 2);
    try {
      const elements = stride === 1 ? items : items.filter((_, i) => i % 2 === 0);
      if (elements.length === 0) continue;
      const lookup = await probe(elements);
      if (stride === 2) {
        const v = diffFields(items, (_, i) => lookup(i));
        if (v) return v;
      } else {
        for (let i = 0; i < elements.length; i++) {
          if (lookup(i) === null) return `set member ${printableKey(elements[i]!)} missing on target`;
        }
      }
    } finally {
      ctx.meter.release(items.length * 2);
    }
  } while (cursor !== "0");
  return null;
}

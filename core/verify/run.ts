/**
 * `ferry verify`: every in-scope source key compared with the target (SCAN on every master, batched,
 * pipelined), then the target scanned for keys the source lacks. Keys found different are compared
 * again after a delay (a live sync may simply not have applied them yet) before they are reported.
 */
import type { Redis } from "ioredis";
import { BadInputError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { compareKey, existsOn, type KeyOutcome } from "./key.ts";
import { call, openSide, type Reader, type VerifySide } from "./sides.ts";
import {
  DEFAULT_VERIFY_OPTIONS,
  type Difference,
  type DifferenceKind,
  type VerifyCounts,
  type VerifyOptions,
  type VerifyReport,
} from "./types.ts";
import { Meter } from "./values.ts";

export interface RunVerifyInput {
  source: RedisEndpoint;
  target: RedisEndpoint;
  options?: Partial<VerifyOptions>;
}

/** Differences kept for rechecks beyond this are reported without a recheck (memory bound). */
const MAX_PENDING = 10_000;

interface Pending {
  kind: DifferenceKind;
  reason: string;
  key: Buffer;
  db: number;
  targetDb: number;
  source: Reader;
  target: Reader;
  /** Extra keys: every source db that maps to this target db. */
  sourceReaders?: Reader[];
}

export async function runVerify(input: RunVerifyInput): Promise<VerifyReport> {
  const opts: VerifyOptions = { ...DEFAULT_VERIFY_OPTIONS, ...input.options };
  validate(opts);
  const started = Date.now();
  const opened = await Promise.allSettled([
    openSide("source", input.source),
    openSide("target", input.target),
  ]);
  const failed = opened.find((r) => r.status === "rejected");
  if (failed) {
    // Close whichever side did open before reporting the one that did not.
    for (const r of opened) if (r.status === "fulfilled") r.value.close();
    throw failed.reason;
  }
  const [source, target] = opened.map((r) => (r as PromiseFulfilledResult<VerifySide>).value) as [
    VerifySide,
    VerifySide,
  ];
  try {
    const counts: VerifyCounts = {
      checked: 0,
      equal: 0,
      missing: 0,
      extra: 0,
      different: 0,
      ttlDiffers: 0,
      vanished: 0,
    };
    const meter = new Meter();
    const pending: Pending[] = [];
    const final: Pending[] = [];
    const marker = Buffer.from(opts.markerPrefix);
    const isMarker = (key: Buffer) => marker.length > 0 && key.subarray(0, marker.length).equals(marker);
    const sampled = () => opts.sample >= 1 || Math.random() < opts.sample;
    const defer = (p: Pending) => (pending.length < MAX_PENDING ? pending.push(p) : final.push(p));
    const pairs = dbPairs(source, target, opts);

    // Pass 1: source keys.
    let scanned = 0;
    const sourceTotal = pairs.reduce((sum, [db]) => sum + (source.keyspace.get(db) ?? 0), 0);
    for (const [db, targetDb] of pairs) {
      const [sr, tr] = await Promise.all([source.reader(db), target.reader(targetDb)]);
      for (const node of await source.scanNodes(db)) {
        for await (const keys of scanKeys(node, opts.batchSize)) {
          scanned += keys.length;
          const inScope = keys.filter((k) => !isMarker(k) && (opts.keyFilter?.(db, k) ?? true) && sampled());
          await eachLimit(inScope, opts.concurrency, async (key) => {
            const outcome = await compareKey({ source: sr, target: tr, key }, opts, meter);
            if (outcome.kind === "vanished") return void counts.vanished++;
            counts.checked++;
            if (outcome.kind === "equal") return void counts.equal++;
            defer({ kind: outcome.kind, reason: outcome.reason, key, db, targetDb, source: sr, target: tr });
          });
          opts.onProgress?.({ phase: "source", scanned, total: sourceTotal });
        }
      }
    }

    // Pass 2: target keys the source lacks.
    if (opts.extra) {
      scanned = 0;
      const byTarget = new Map<number, number[]>();
      for (const [db, targetDb] of pairs) byTarget.set(targetDb, [...(byTarget.get(targetDb) ?? []), db]);
      const targetTotal = [...byTarget.keys()].reduce((sum, db) => sum + (target.keyspace.get(db) ?? 0), 0);
      for (const [targetDb, dbs] of byTarget) {
        const tr = await target.reader(targetDb);
        const readers = await Promise.all(dbs.map((db) => source.reader(db)));
        const db = dbs[0]!;
        for (const node of await target.scanNodes(targetDb)) {
          for await (const keys of scanKeys(node, opts.batchSize)) {
            scanned += keys.length;
            const inScope = keys.filter(
              (k) => !isMarker(k) && (opts.keyFilter?.(db, k) ?? true) && sampled(),
            );
            await eachLimit(inScope, opts.concurrency, async (key) => {
              if (await existsOnAny(readers, key)) return;
              defer({
                kind: "extra",
                reason: "on target only",
                key,
                db,
                targetDb,
                source: readers[0]!,
                target: tr,
                sourceReaders: readers,
              });
            });
            opts.onProgress?.({ phase: "target", scanned, total: targetTotal });
          }
        }
      }
    }

    // Rechecks: a live sync may be a few hundred ms behind.
    let open = pending;
    for (let round = 0; round < opts.rechecks && open.length > 0; round++) {
      await new Promise((r) => setTimeout(r, opts.recheckDelayMs));
      const still: Pending[] = [];
      await eachLimit(open, opts.concurrency, async (p) => {
        const outcome = await recheck(p, opts, meter);
        if (outcome.kind === "equal") {
          if (p.kind !== "extra") counts.equal++;
        } else if (outcome.kind === "vanished") {
          if (p.kind !== "extra") {
            counts.checked--;
            counts.vanished++;
          }
        } else {
          still.push({ ...p, kind: outcome.kind, reason: outcome.reason });
        }
      });
      open = still;
    }
    final.push(...open);
    for (const p of final) {
      if (p.kind === "missing") counts.missing++;
      else if (p.kind === "extra") counts.extra++;
      else if (p.kind === "ttl") counts.ttlDiffers++;
      else counts.different++;
    }
    const differences: Difference[] = final
      .slice(0, opts.maxReport)
      .map(({ kind, reason, key, db, targetDb }) => ({ kind, reason, key, db, targetDb }));
    return {
      counts,
      differences,
      equal: final.length === 0,
      peakElementsHeld: meter.peak,
      elapsedMs: Date.now() - started,
    };
  } finally {
    source.close();
    target.close();
  }
}

async function recheck(p: Pending, opts: VerifyOptions, meter: Meter): Promise<KeyOutcome> {
  if (p.kind === "extra") {
    const onSource = await existsOnAny(p.sourceReaders ?? [p.source], p.key);
    if (onSource) return { kind: "equal" };
    const onTarget = await existsOn(p.target, p.key);
    return onTarget ? { kind: "extra", reason: p.reason } : { kind: "vanished" };
  }
  return compareKey({ source: p.source, target: p.target, key: p.key }, opts, meter);
}

async function existsOnAny(readers: Reader[], key: Buffer): Promise<boolean> {
  for (const r of readers) if (await existsOn(r, key)) return true;
  return false;
}

/** [source db, target db] pairs: the explicit map, or every db that has keys on either side. */
export function dbPairs(
  source: VerifySide,
  target: VerifySide,
  opts: VerifyOptions,
): Array<[number, number]> {
  if (opts.dbMap) return [...opts.dbMap.entries()].sort((a, b) => a[0] - b[0]);
  const dbs = new Set([
    ...source.keyspace.keys(),
    ...(target.kind === "standalone" ? target.keyspace.keys() : []),
  ]);
  if (dbs.size === 0) dbs.add(0);
  return [...dbs].sort((a, b) => a - b).map((db) => [db, db]);
}

async function* scanKeys(node: Redis, count: number): AsyncGenerator<Buffer[]> {
  let cursor = "0";
  do {
    const [next, keys] = (await call(node, "SCAN", cursor, "COUNT", count)) as [Buffer, Buffer[]];
    cursor = next.toString();
    if (keys.length > 0) yield keys;
  } while (cursor !== "0");
}

async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function validate(opts: VerifyOptions): void {
  if (!(opts.sample > 0 && opts.sample <= 1))
    throw new BadInputError(`--sample must be in (0%, 100%], got ${opts.sample}`);
  for (const [name, v] of [
    ["--ttl-tolerance-ms", opts.ttlToleranceMs],
    ["--recheck-delay-ms", opts.recheckDelayMs],
    ["--rechecks", opts.rechecks],
    ["--max-report", opts.maxReport],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new BadInputError(`${name} must be a non-negative integer, got ${v}`);
  }
  if (!(opts.batchSize >= 1 && opts.concurrency >= 1))
    throw new BadInputError("batch size and concurrency must be ≥ 1");
}

/**
 * Deletes that happened while notifications were lost (subscriber disconnected, dirty set
 * overflowed) leave keys on the target that a rescan — which only visits keys that exist on the
 * source — never sees. After such a rescan the target's keys are walked too: a key the job would
 * copy (filter rules) whose source key no longer exists is handed back as "gone", and the copier
 * turns it into a DEL in order with the other copies.
 *
 * Only sound when the source name of a target key is known and one source node holds it: a
 * standalone source, no rename rules, one source db per target db. Otherwise the caller skips it.
 */
import type { Redis } from "ioredis";
import { compileKeyRules, type Filter } from "../../filters/filter.ts";

export function canReconcile(filter: Filter): boolean {
  return (filter.spec.renamePrefixes ?? []).length === 0;
}

/** Source db of each target db, for target dbs fed by exactly one source db. */
function sourceDbs(filter: Filter, dbs: readonly number[]): Map<number, number> {
  const byTarget = new Map<number, number[]>();
  for (const db of dbs) {
    const to = filter.mapDb(db);
    if (to === null) continue;
    byTarget.set(to, [...(byTarget.get(to) ?? []), db]);
  }
  const out = new Map<number, number>();
  for (const [to, from] of byTarget) if (from.length === 1) out.set(to, from[0]!);
  return out;
}

/**
 * Yields, per batch of target keys, the (source db, key) pairs missing on the source. `markerPrefix`
 * keys (ferry's own) are never candidates; neither are keys the filter would not copy.
 */
export async function* keysGoneFromSource(opts: {
  source: Redis;
  target: Redis;
  filter: Filter;
  markerPrefix: string;
  count: number;
}): AsyncGenerator<{ db: number; keys: Buffer[] }> {
  const rules = compileKeyRules(opts.filter.spec);
  const marker = Buffer.from(opts.markerPrefix);
  const dbs = sourceDbs(
    opts.filter,
    Array.from({ length: 16 }, (_, i) => i),
  );
  for (const [targetDb, db] of dbs) {
    if (!rules.dbAllowed(db)) continue;
    let cursor = "0";
    do {
      const replies =
        (await opts.target.pipeline().select(targetDb).scanBuffer(cursor, "COUNT", opts.count).exec()) ?? [];
      const [err, reply] = replies[1] ?? [new Error("SCAN: no reply"), null];
      if (err) throw err;
      const [next, keys] = reply as [Buffer, Buffer[]];
      cursor = next.toString();
      const candidates = keys.filter(
        (k) =>
          !(k.length >= marker.length && k.subarray(0, marker.length).equals(marker)) && rules.keyMatches(k),
      );
      if (candidates.length === 0) continue;
      const check = opts.source.pipeline().select(db);
      for (const key of candidates) check.exists(key);
      const exists = (await check.exec()) ?? [];
      const gone = candidates.filter((_, i) => exists[i + 1]?.[1] === 0);
      if (gone.length > 0) yield { db, keys: gone };
    } while (cursor !== "0");
  }
}

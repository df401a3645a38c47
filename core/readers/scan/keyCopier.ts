/**
 * Copies keys of one source node: `DUMP` + `PTTL` per key (pipelined), then the same translation
 * as a snapshot (core/snapshot/translator.ts): `RESTORE … ABSTTL REPLACE` when the target takes the
 * payload version, otherwise the value rewritten as commands; `DEL` when the key is gone.
 *
 * DUMP and PTTL are two commands, so another client may write in between; that write notifies,
 * and the key is copied again — convergence does not depend on reading both atomically.
 */
import type { Redis } from "ioredis";
import type { Filter } from "../../filters/filter.ts";
import { type Clock, systemClock } from "../../ports.ts";
import { createRdbParser } from "../../rdb/parser.ts";
import type { RdbEvent } from "../../rdb/types.ts";
import type { SnapshotCommand, SnapshotTranslator } from "../../snapshot/translator.ts";
import { type DumpedKey, rdbFromDumps } from "./dumpRdb.ts";

export interface KeyCopierOptions {
  filter: Filter;
  translator: SnapshotTranslator;
  bigKeyThreshold: number;
  clock?: Clock;
}

export interface CopyCounters {
  /** Keys read with DUMP and written (RESTORE or rewrite). */
  copied: number;
  /** Keys gone on the source (deleted, expired, evicted): DEL on the target. */
  deleted: number;
}

const DEL = Buffer.from("DEL");

export class KeyCopier {
  readonly counters: CopyCounters = { copied: 0, deleted: 0 };
  private readonly clock: Clock;

  constructor(private readonly opts: KeyCopierOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /**
   * Source key passes the key/db rules? Judged before DUMP so filtered keys cost nothing; counted
   * in the filter's filteredKeys. Type rules are judged by the translator once the type is known.
   */
  wanted(db: number, key: Buffer): boolean {
    return this.opts.filter.keyAllowed(db, key);
  }

  /** Reads `keys` (all in `db`) from `client` and returns the target commands, key by key in order. */
  async copy(client: Redis, db: number, keys: readonly Buffer[]): Promise<SnapshotCommand[]> {
    if (keys.length === 0) return [];
    const pipeline = client.pipeline();
    pipeline.select(db);
    for (const key of keys) pipeline.dumpBuffer(key).pttl(key);
    const replies = (await pipeline.exec()) ?? [];
    const readAt = this.clock.now();
    const dumped: DumpedKey[] = [];
    const gone: Buffer[] = [];
    for (let i = 0; i < keys.length; i++) {
      const [dumpErr, payload] = replies[1 + 2 * i] ?? [null, null];
      const [ttlErr, pttl] = replies[2 + 2 * i] ?? [null, -2];
      if (dumpErr) throw dumpErr;
      if (ttlErr) throw ttlErr;
      const key = keys[i]!;
      const ttl = Number(pttl);
      if (payload === null || ttl === -2) gone.push(key);
      else
        dumped.push({
          db,
          key,
          payload: payload as Buffer,
          ...(ttl >= 0 ? { expireAtMs: readAt + ttl } : {}),
        });
    }
    const out = this.translate(dumped);
    for (const key of gone) out.push(...this.deletion(db, key));
    return out;
  }

  private translate(dumped: DumpedKey[]): SnapshotCommand[] {
    const rdb = rdbFromDumps(dumped);
    if (!rdb) return [];
    const events: RdbEvent[] = [];
    const parser = createRdbParser(
      { captureRaw: true, bigKeyThreshold: this.opts.bigKeyThreshold, modules: "capture" },
      (event) => events.push(event),
    );
    parser.write(rdb);
    parser.end();
    const out: SnapshotCommand[] = [];
    const translator = this.opts.translator;
    for (const event of events) {
      const expiredBefore = translator.counters.skippedExpired;
      const keysBefore = translator.counters.keys;
      out.push(...translator.translate(event));
      if (event.kind === "key" || event.kind === "key-begin") {
        this.counters.copied += translator.counters.keys - keysBefore;
        // Expired between PTTL and now: the target must not keep an older copy either.
        if (translator.counters.skippedExpired > expiredBefore)
          out.push(...this.deletion(event.meta.db, event.meta.key));
      }
    }
    return out;
  }

  /** DEL of a source key as named on the target (db map, rename), or nothing when filtered out. */
  private deletion(db: number, key: Buffer): SnapshotCommand[] {
    const filter = this.opts.filter;
    const targetDb = filter.mapDb(db);
    if (targetDb === null) return [];
    this.counters.deleted++;
    return [{ argv: [DEL, filter.renameKey(key)], db: targetDb }];
  }
}

/**
 * RDB events → the commands that recreate the snapshot on the target.
 *
 * - Small keys: `RESTORE key <abs-expire-ms|0> <payload> ABSTTL REPLACE` when the target accepts the
 *   source's payload version (the exact encoding, one round trip, expiry absolute so a late apply
 *   never stretches a TTL); otherwise `DEL key`, the value rewritten as commands, `PEXPIREAT`.
 * - Big keys (key-begin/chunk/end): `DEL key`, the chunks as commands, then (streams) the groups and
 *   ids, then `PEXPIREAT`. The DEL gives replace semantics on a re-snapshot.
 * - Keys already expired when translated are skipped: the source would not serve them either.
 * - FUNCTION libraries → `FUNCTION LOAD REPLACE`; `lua` AUX scripts (pre-7.0 RDBs) → `SCRIPT LOAD`.
 * - Module values → RESTORE only (no generic rewrite exists): otherwise a FatalError naming the key
 *   and module.
 */
import { FatalError } from "../errors.ts";
import type { Filter } from "../filters/filter.ts";
import { type Clock, systemClock } from "../ports.ts";
import {
  chunkToCommands,
  printable,
  type RewriteOptions,
  streamMetaToCommands,
  valueToCommands,
} from "../rdb/commands.ts";
import { dumpPayload } from "../rdb/payload.ts";
import type { KeyMeta, RdbEvent, RdbValue, RdbValueType, StreamMeta } from "../rdb/types.ts";
import { acceptsPayload, rewriteOptionsFor, type TargetInfo } from "./target.ts";

export interface SnapshotCommand {
  argv: Buffer[];
  db: number;
}

export interface SnapshotTranslatorOptions {
  target: TargetInfo;
  filter?: Filter;
  clock?: Clock;
  /** Bounds of rewritten commands (defaults: 512 elements, 1 MiB). */
  limits?: Pick<RewriteOptions, "maxElements" | "maxBytes">;
  /** "auto": RESTORE when the target accepts the payload; "never": always rewrite. Default "auto". */
  restore?: "auto" | "never";
  /** Copy FUNCTION libraries and `lua` AUX scripts. Default true. */
  functions?: boolean;
}

export interface SnapshotCounters {
  /** Keys written (whole or chunked). */
  keys: number;
  /** Argument bytes of the commands produced (approximate size on the wire). */
  bytes: number;
  skippedExpired: number;
  /** Keys refused by the filter (also counted in filter.counters.filteredKeys). */
  filtered: number;
  restored: number;
  rewritten: number;
  bigKeys: number;
  functions: number;
  scripts: number;
  byType: Record<RdbValueType, number>;
}

const CMD = {
  RESTORE: Buffer.from("RESTORE"),
  ABSTTL: Buffer.from("ABSTTL"),
  REPLACE: Buffer.from("REPLACE"),
  DEL: Buffer.from("DEL"),
  PEXPIREAT: Buffer.from("PEXPIREAT"),
  FUNCTION: Buffer.from("FUNCTION"),
  LOAD: Buffer.from("LOAD"),
  SCRIPT: Buffer.from("SCRIPT"),
  /** RESTORE's TTL argument for a key without expiry (most keys: shared, not allocated per key). */
  NO_TTL: Buffer.from("0"),
} as const;

interface OpenBigKey {
  /** null: the key is being skipped (filtered or expired); its chunks produce nothing. */
  key: Buffer | null;
  db: number;
  type: RdbValueType;
}

export class SnapshotTranslator {
  readonly counters: SnapshotCounters = {
    keys: 0,
    bytes: 0,
    skippedExpired: 0,
    filtered: 0,
    restored: 0,
    rewritten: 0,
    bigKeys: 0,
    functions: 0,
    scripts: 0,
    byType: { string: 0, list: 0, set: 0, zset: 0, hash: 0, stream: 0, module: 0 },
  };
  private readonly rewrite: RewriteOptions;
  private readonly clock: Clock;
  private sourceVersion = 0;
  private open: OpenBigKey | null = null;

  constructor(private readonly opts: SnapshotTranslatorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.rewrite = { ...rewriteOptionsFor(opts.target, opts.limits), now: () => this.clock.now() };
  }

  /** Commands for one event, in order. Throws FatalError for what the target cannot take. */
  translate(event: RdbEvent): SnapshotCommand[] {
    const out = this.commandsFor(event);
    for (const c of out) for (const arg of c.argv) this.counters.bytes += arg.length;
    return out;
  }

  private commandsFor(event: RdbEvent): SnapshotCommand[] {
    switch (event.kind) {
      case "header":
        this.sourceVersion = event.version;
        return [];
      case "aux":
        // Pre-7.0 masters ship their script cache as `lua` AUX fields so replicas can run EVALSHA.
        if (event.key.toString() !== "lua" || this.opts.functions === false) return [];
        this.counters.scripts++;
        return [{ argv: [CMD.SCRIPT, CMD.LOAD, event.value], db: 0 }];
      case "function":
        return this.functionLoad(event.code);
      case "key":
        return this.wholeKey(event.meta, event.value, event.raw);
      case "key-dump":
        return this.dumpedKey(event.meta, event.valueType, event.dump);
      case "key-begin":
        return this.beginBigKey(event.meta, event.valueType);
      case "key-chunk": {
        const open = this.open;
        if (!open?.key) return [];
        return chunkToCommands(open.key, event.chunk, this.rewrite).map((argv) => ({ argv, db: open.db }));
      }
      case "key-end":
        return this.endBigKey(event.meta, event.streamMeta);
      default:
        // selectdb/resizedb (KeyMeta carries the db), module-aux (the module's own state), eof.
        return [];
    }
  }

  private functionLoad(code: Buffer): SnapshotCommand[] {
    if (this.opts.functions === false) return [];
    if (!this.opts.target.features.functions) {
      throw new FatalError(
        `the source has FUNCTION libraries but the target (Redis ${this.opts.target.version}) predates functions (7.0)`,
        "upgrade the target, or skip functions (functions: false) if nothing calls FCALL",
      );
    }
    this.counters.functions++;
    return [{ argv: [CMD.FUNCTION, CMD.LOAD, CMD.REPLACE, code], db: 0 }];
  }

  /** Target key and db after filter, expiry check, db map and rename; null when skipped. */
  private admit(meta: KeyMeta, type: RdbValueType): { key: Buffer; db: number } | null {
    const filter = this.opts.filter;
    if (filter && !filter.keyAllowed(meta.db, meta.key, type)) {
      this.counters.filtered++;
      return null;
    }
    if (meta.expireAtMs !== undefined && meta.expireAtMs <= this.clock.now()) {
      this.counters.skippedExpired++;
      return null;
    }
    const db = filter ? filter.mapDb(meta.db) : meta.db;
    if (db === null) {
      this.counters.filtered++;
      return null;
    }
    return { key: filter ? filter.renameKey(meta.key) : meta.key, db };
  }

  private canRestore(): boolean {
    return this.acceptsDumps(this.sourceVersion);
  }

  /**
   * For the parser's `dumps` option: true when every small key of an RDB of this version will be
   * RESTOREd, so the parser can hand over DUMP payloads without decoding the values.
   */
  acceptsDumps(rdbVersion: number): boolean {
    return this.opts.restore !== "never" && acceptsPayload(this.opts.target, rdbVersion);
  }

  private dumpedKey(meta: KeyMeta, type: RdbValueType, dump: Buffer): SnapshotCommand[] {
    const at = this.admit(meta, type);
    if (!at) return [];
    this.counters.keys++;
    this.counters.byType[type]++;
    this.counters.restored++;
    const expire = meta.expireAtMs;
    const ttl = expire === undefined ? CMD.NO_TTL : Buffer.from(String(expire));
    return [{ argv: [CMD.RESTORE, at.key, ttl, dump, CMD.ABSTTL, CMD.REPLACE], db: at.db }];
  }

  private wholeKey(meta: KeyMeta, value: RdbValue, raw: Buffer | undefined): SnapshotCommand[] {
    const at = this.admit(meta, value.type);
    if (!at) return [];
    const { key, db } = at;
    this.counters.keys++;
    this.counters.byType[value.type]++;
    const expire = meta.expireAtMs;
    if (raw && this.canRestore()) {
      this.counters.restored++;
      const payload = dumpPayload(meta.rdbType, raw, this.sourceVersion);
      const ttl = expire === undefined ? CMD.NO_TTL : Buffer.from(String(expire));
      return [{ argv: [CMD.RESTORE, key, ttl, payload, CMD.ABSTTL, CMD.REPLACE], db }];
    }
    if (value.type === "module") throw this.moduleError(key, value.moduleName);
    this.counters.rewritten++;
    const argvs = [[CMD.DEL, key], ...valueToCommands(key, value, this.rewrite)];
    if (expire !== undefined) argvs.push([CMD.PEXPIREAT, key, Buffer.from(String(expire))]);
    return argvs.map((argv) => ({ argv, db }));
  }

  private moduleError(key: Buffer, moduleName: string): FatalError {
    return new FatalError(
      `key ${printable(key)} holds a value of module ${moduleName}: it can only be copied with RESTORE, and the target (${this.opts.target.flavor} ${this.opts.target.version}) cannot take this RDB ${this.sourceVersion} payload or the parser did not capture it`,
      `use a target with module ${moduleName} loaded and an RDB version ≥ ${this.sourceVersion}, or exclude the key with a filter`,
    );
  }

  private beginBigKey(meta: KeyMeta, type: RdbValueType): SnapshotCommand[] {
    if (type === "module") {
      throw new FatalError(
        `key ${printable(meta.key)} is a module value above the big-key threshold; module values cannot be chunked`,
        "raise the big-key threshold above this key's size so it is copied with RESTORE",
      );
    }
    const at = this.admit(meta, type);
    this.open = { key: at?.key ?? null, db: at?.db ?? 0, type };
    if (!at) return [];
    this.counters.keys++;
    this.counters.bigKeys++;
    this.counters.rewritten++;
    this.counters.byType[type]++;
    return [{ argv: [CMD.DEL, at.key], db: at.db }];
  }

  private endBigKey(meta: KeyMeta, streamMeta: StreamMeta | undefined): SnapshotCommand[] {
    const open = this.open;
    this.open = null;
    if (!open?.key) return [];
    const key = open.key;
    const argvs: Buffer[][] = [];
    if (open.type === "stream" && streamMeta)
      argvs.push(...streamMetaToCommands(key, streamMeta, this.rewrite));
    if (meta.expireAtMs !== undefined) argvs.push([CMD.PEXPIREAT, key, Buffer.from(String(meta.expireAtMs))]);
    return argvs.map((argv) => ({ argv, db: open.db }));
  }
}

/**
 * Decoded RDB values → plain write commands, for targets that cannot take the source's RESTORE
 * payload version and for big keys that arrive in chunks. Every command is bounded (elements and
 * bytes) so a big key never becomes one giant command: the target's `proto-max-bulk-len` and
 * `client-query-buffer-limit` stay out of reach and the writer can batch commands freely.
 *
 * The stream rewrite follows Redis's own AOF rewrite (aof.c rewriteStreamObject): XADD with explicit
 * ids, XSETID for the last id / entries-added / max-deleted-id, XGROUP CREATE … ENTRIESREAD, then
 * `XCLAIM … 0 <id> TIME <ms> RETRYCOUNT <n> JUSTID FORCE` per pending entry and XGROUP CREATECONSUMER
 * for consumers without pending entries.
 */
import { FatalError } from "../errors.ts";
import type { HashEntry, RdbChunk, RdbValue, StreamEntry, StreamId, StreamMeta, ZsetEntry } from "./types.ts";

export interface RewriteOptions {
  /**
   * Target is Redis 7.0+: XSETID takes ENTRIESADDED/MAXDELETEDID and XGROUP CREATE takes ENTRIESREAD.
   * Without them the stream's entries-added counter and the groups' lag are recomputed by the target.
   * Default true.
   */
  streamMetadata?: boolean;
  /** Target has XGROUP CREATECONSUMER (Redis 6.2+). Without it, consumers with no pending entries are lost. Default true. */
  createConsumer?: boolean;
  /** Target has HPEXPIREAT (Redis 7.4+, Valkey 9+). Without it a hash field TTL is a FatalError. Default true. */
  hashFieldExpire?: boolean;
  /**
   * Current time (unix ms): hash fields whose TTL has passed are left out, as the source no longer
   * serves them. Default: keep every field.
   */
  now?: () => number;
  /** Most elements (list items, members, field/value pairs) per command. Default 512. */
  maxElements?: number;
  /** Approximate most argument bytes per command. Default 1 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_ELEMENTS = 512;
export const DEFAULT_MAX_BYTES = 1024 * 1024;

const CMD = {
  SET: Buffer.from("SET"),
  APPEND: Buffer.from("APPEND"),
  RPUSH: Buffer.from("RPUSH"),
  SADD: Buffer.from("SADD"),
  ZADD: Buffer.from("ZADD"),
  HSET: Buffer.from("HSET"),
  HPEXPIREAT: Buffer.from("HPEXPIREAT"),
  FIELDS: Buffer.from("FIELDS"),
  XADD: Buffer.from("XADD"),
  XSETID: Buffer.from("XSETID"),
  XGROUP: Buffer.from("XGROUP"),
  XCLAIM: Buffer.from("XCLAIM"),
} as const;

/** The whole value of a small key as commands that create it from nothing. */
export function valueToCommands(key: Buffer, value: RdbValue, opts: RewriteOptions = {}): Buffer[][] {
  switch (value.type) {
    case "string":
      return [[CMD.SET, key, value.value]];
    case "stream":
      return [...streamEntriesToCommands(key, value.value), ...streamMetaToCommands(key, value.meta, opts)];
    case "module":
      throw new FatalError(
        `key ${printable(key)} holds a value of module ${value.moduleName}, which cannot be rewritten as commands`,
        `load module ${value.moduleName} on the target and use a target that accepts the source RDB version, or exclude the key with a filter`,
      );
    default:
      return chunkToCommands(key, value, opts);
  }
}

/**
 * One chunk of a big key as commands that add to it. The caller sends `DEL key` before the first
 * chunk (strings are rebuilt with APPEND, which creates the key) and, for a stream, the commands of
 * streamMetaToCommands after the last one.
 */
export function chunkToCommands(key: Buffer, chunk: RdbChunk, opts: RewriteOptions = {}): Buffer[][] {
  const limits = limitsOf(opts);
  switch (chunk.type) {
    case "string":
      return [[CMD.APPEND, key, chunk.value]];
    case "list":
      return bounded([CMD.RPUSH, key], chunk.value.map(single), limits);
    case "set":
      return bounded([CMD.SADD, key], chunk.value.map(single), limits);
    case "zset":
      return bounded([CMD.ZADD, key], chunk.value.map(zaddPair), limits);
    case "hash":
      return hashToCommands(key, chunk.value, opts, limits);
    case "stream":
      return streamEntriesToCommands(key, chunk.value);
  }
}

/**
 * A zset score as ZADD accepts it and parses back to the same double: `inf`/`-inf` for infinities
 * (Redis's strtod accepts them), otherwise the shortest text that round-trips (ECMAScript's
 * Number→String is exactly that, at most 17 significant digits), keeping the sign of -0.
 */
export function formatScore(score: number): string {
  if (Number.isNaN(score))
    throw new FatalError("a zset score is NaN, which no RDB can hold", "report this RDB");
  if (score === Number.POSITIVE_INFINITY) return "inf";
  if (score === Number.NEGATIVE_INFINITY) return "-inf";
  if (Object.is(score, -0)) return "-0";
  return String(score);
}

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** XADD with the entry's own id, one entry per command (XADD takes exactly one). */
export function streamEntriesToCommands(key: Buffer, entries: readonly StreamEntry[]): Buffer[][] {
  return entries.map((entry) => [CMD.XADD, key, Buffer.from(formatStreamId(entry.id)), ...entry.fields]);
}

/**
 * What follows a stream's entries: its last id and counters, then its groups with their pending
 * entries and consumers. When the stream has no entries at all it is created first with the XADD
 * MAXLEN 0 trick of Redis's AOF rewrite (an XADD that is trimmed away at once), because no other
 * command creates an empty stream without also creating a group.
 *
 * Known limits (the same as Redis's AOF rewrite): pending entries whose message was deleted cannot
 * be recreated (XCLAIM skips ids that are not in the stream); consumers' seen/active times become
 * the time of the XCLAIM/CREATECONSUMER.
 */
export function streamMetaToCommands(key: Buffer, meta: StreamMeta, opts: RewriteOptions = {}): Buffer[][] {
  const withMeta = opts.streamMetadata ?? true;
  const out: Buffer[][] = [];
  if (meta.length === 0) {
    out.push([CMD.XADD, key, b("MAXLEN"), b("0"), b("0-1"), b("x"), b("y")]);
  }
  const setId = [CMD.XSETID, key, b(formatStreamId(meta.lastId))];
  if (withMeta && meta.entriesAdded !== undefined)
    setId.push(b("ENTRIESADDED"), b(String(meta.entriesAdded)));
  if (withMeta && meta.maxDeletedId !== undefined)
    setId.push(b("MAXDELETEDID"), b(formatStreamId(meta.maxDeletedId)));
  out.push(setId);

  for (const group of meta.groups) {
    const create = [CMD.XGROUP, b("CREATE"), key, group.name, b(formatStreamId(group.lastId))];
    if (withMeta && group.entriesRead !== undefined)
      create.push(b("ENTRIESREAD"), b(String(group.entriesRead)));
    out.push(create);
    const pel = new Map(group.pending.map((p) => [formatStreamId(p.id), p] as const));
    for (const consumer of group.consumers) {
      if (consumer.pending.length === 0) {
        if (opts.createConsumer ?? true)
          out.push([CMD.XGROUP, b("CREATECONSUMER"), key, group.name, consumer.name]);
        continue;
      }
      for (const id of consumer.pending) {
        const text = formatStreamId(id);
        const nack = pel.get(text);
        out.push([
          CMD.XCLAIM,
          key,
          group.name,
          consumer.name,
          b("0"),
          b(text),
          b("TIME"),
          b(String(nack?.deliveryTime ?? 0)),
          b("RETRYCOUNT"),
          b(String(nack?.deliveryCount ?? 1)),
          b("JUSTID"),
          b("FORCE"),
        ]);
      }
    }
  }
  return out;
}

interface Limits {
  elements: number;
  bytes: number;
}

function limitsOf(opts: RewriteOptions): Limits {
  return { elements: opts.maxElements ?? DEFAULT_MAX_ELEMENTS, bytes: opts.maxBytes ?? DEFAULT_MAX_BYTES };
}

function single(item: Buffer): Buffer[] {
  return [item];
}

function zaddPair(entry: ZsetEntry): Buffer[] {
  return [Buffer.from(formatScore(entry.score)), entry.member];
}

/** `prefix` + as many elements (each a fixed group of args) as fit the limits, repeated. */
function bounded(prefix: readonly Buffer[], elements: readonly Buffer[][], limits: Limits): Buffer[][] {
  const out: Buffer[][] = [];
  let argv: Buffer[] = [...prefix];
  let count = 0;
  let bytes = 0;
  for (const element of elements) {
    const size = element.reduce((sum, arg) => sum + arg.length, 0);
    if (count > 0 && (count >= limits.elements || bytes + size > limits.bytes)) {
      out.push(argv);
      argv = [...prefix];
      count = 0;
      bytes = 0;
    }
    argv.push(...element);
    count++;
    bytes += size;
  }
  if (count > 0) out.push(argv);
  return out;
}

function hashToCommands(
  key: Buffer,
  all: readonly HashEntry[],
  opts: RewriteOptions,
  limits: Limits,
): Buffer[][] {
  const now = opts.now?.();
  const entries =
    now === undefined ? all : all.filter((e) => e.expireAtMs === undefined || e.expireAtMs > now);
  const out = bounded(
    [CMD.HSET, key],
    entries.map((e) => [e.field, e.value]),
    limits,
  );
  const withTtl = entries.filter((e) => e.expireAtMs !== undefined);
  if (withTtl.length === 0) return out;
  if (!(opts.hashFieldExpire ?? true)) {
    throw new FatalError(
      `hash ${printable(key)} has fields with a TTL, which the target cannot store (needs Redis 7.4+ or Valkey 9+)`,
      "upgrade the target or exclude the key with a filter",
    );
  }
  // One HPEXPIREAT per distinct expiry time: the command takes one time for all its FIELDS.
  const byTime = new Map<number, Buffer[]>();
  for (const e of withTtl) {
    const at = e.expireAtMs as number;
    const fields = byTime.get(at) ?? [];
    fields.push(e.field);
    byTime.set(at, fields);
  }
  for (const [at, fields] of byTime) {
    for (const part of bounded([], fields.map(single), limits)) {
      out.push([CMD.HPEXPIREAT, key, b(String(at)), CMD.FIELDS, b(String(part.length)), ...part]);
    }
  }
  return out;
}

function b(text: string): Buffer {
  return Buffer.from(text);
}

/** A key for an error message: text when printable, else hex (keys are binary-safe). */
export function printable(key: Buffer): string {
  const text = key.toString("utf8");
  return /^[\x20-\x7e]*$/.test(text) ? JSON.stringify(text) : `0x${key.toString("hex")}`;
}

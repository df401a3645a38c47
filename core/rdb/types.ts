/**
 * Events of the streaming RDB parser (core/rdb/parser.ts). The parser is a push parser
 * (`write(chunk)` / `end()`), resumable at any byte; its memory is bounded by the big-key threshold,
 * never by the size of the dataset or of one key.
 */

export type RdbMagic = "REDIS" | "VALKEY";

/** Value types after decoding, independent of the on-disk encoding. */
export type RdbValueType = "string" | "list" | "set" | "zset" | "hash" | "stream" | "module";

export interface ZsetEntry {
  member: Buffer;
  /** ±Infinity allowed; NaN never appears in a valid RDB. */
  score: number;
}

export interface HashEntry {
  field: Buffer;
  value: Buffer;
  /** Redis 7.4+ hash field expiry: absolute unix ms, when the field has a TTL. */
  expireAtMs?: number;
}

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamEntry {
  id: StreamId;
  /** field, value, field, value… */
  fields: Buffer[];
}

export interface StreamConsumer {
  name: Buffer;
  seenTime: number;
  /** Redis 7.2+ (RDB 11, stream listpacks v3); absent before. */
  activeTime?: number;
  /** Ids of the PEL entries owned by this consumer. */
  pending: StreamId[];
}

export interface StreamPendingEntry {
  id: StreamId;
  deliveryTime: number;
  deliveryCount: number;
}

export interface StreamGroup {
  name: Buffer;
  lastId: StreamId;
  /** Redis 7.0+ (stream listpacks v2); absent before. */
  entriesRead?: number;
  pending: StreamPendingEntry[];
  consumers: StreamConsumer[];
}

/** Everything of a stream but its entries (those come whole in `entries` or in chunks). */
export interface StreamMeta {
  length: number;
  lastId: StreamId;
  /** Redis 7.0+ */
  firstId?: StreamId;
  maxDeletedId?: StreamId;
  entriesAdded?: number;
  groups: StreamGroup[];
}

export type RdbValue =
  | { type: "string"; value: Buffer }
  | { type: "list"; value: Buffer[] }
  | { type: "set"; value: Buffer[] }
  | { type: "zset"; value: ZsetEntry[] }
  | { type: "hash"; value: HashEntry[] }
  | { type: "stream"; value: StreamEntry[]; meta: StreamMeta }
  | { type: "module"; moduleName: string; moduleId: bigint };

/** The elements of one chunk of a big key, by value type. */
export type RdbChunk =
  | { type: "string"; value: Buffer }
  | { type: "list"; value: Buffer[] }
  | { type: "set"; value: Buffer[] }
  | { type: "zset"; value: ZsetEntry[] }
  | { type: "hash"; value: HashEntry[] }
  | { type: "stream"; value: StreamEntry[] };

export interface KeyMeta {
  db: number;
  key: Buffer;
  /** The on-disk RDB type byte (needed to build a RESTORE payload). */
  rdbType: number;
  /** Absolute expiry in unix ms, when the key has one. */
  expireAtMs?: number;
  lruIdleSeconds?: number;
  lfuFreq?: number;
}

export type RdbEvent =
  | { kind: "header"; magic: RdbMagic; version: number }
  | { kind: "aux"; key: Buffer; value: Buffer }
  | { kind: "selectdb"; db: number }
  | { kind: "resizedb"; dbSize: number; expiresSize: number }
  /** FUNCTION2 opcode: the library source code (load on target with FUNCTION LOAD REPLACE). */
  | { kind: "function"; code: Buffer }
  | { kind: "module-aux"; moduleId: bigint; moduleName: string; when: number; raw: Buffer }
  /**
   * A key small enough to come whole. `raw` holds the exact value bytes as they appeared in the RDB
   * (after the type byte) when the parser was created with `captureRaw: true`, so that
   * dumpPayload(rdbType, raw, rdbVersion) is a valid RESTORE payload.
   */
  | { kind: "key"; meta: KeyMeta; value: RdbValue; raw?: Buffer }
  /**
   * A key small enough to come whole, not decoded (only when `dumps` answered true for this RDB):
   * `dump` is its complete DUMP payload (type byte, the value's exact bytes, this RDB's version,
   * CRC-64), ready for RESTORE on a server that accepts that version. `valueType` comes from the
   * type byte (for filters and counters).
   */
  | { kind: "key-dump"; meta: KeyMeta; valueType: RdbValueType; dump: Buffer }
  /** A key above the big-key threshold: begin → chunk… → end, elements in RDB order. */
  | { kind: "key-begin"; meta: KeyMeta; valueType: RdbValueType }
  | { kind: "key-chunk"; meta: KeyMeta; chunk: RdbChunk }
  /** For a stream, the groups/ids metadata arrives here (it follows the entries in the RDB). */
  | { kind: "key-end"; meta: KeyMeta; streamMeta?: StreamMeta }
  /** End of the RDB. `checksumOk` is null when the file has no checksum (RDB < 5 or a zero checksum). */
  | { kind: "eof"; checksumOk: boolean | null; bytes: number };

export interface RdbParserOptions {
  /** Encoded value size above which a key is emitted in chunks. Default 16 MiB. */
  bigKeyThreshold?: number;
  /** Target number of bytes per emitted chunk of a big key. Default 1 MiB. */
  chunkBytes?: number;
  /** Keep the raw value bytes of small keys (for RESTORE payloads). Default false. */
  captureRaw?: boolean;
  /** What to do with module values (types 6/7): capture raw bytes or fail. Default "capture". */
  modules?: "capture" | "fail";
  /**
   * Asked once, at the header: true makes every key that would come as a whole `key` event come as
   * `key-dump` instead (no decoded value, one allocation), except streams and module values, which
   * still come as `key` (with `raw` when captureRaw). For a consumer that RESTOREs the source's
   * payloads: decoding values only to send their raw bytes is most of a parser's work. Default: never.
   */
  dumps?: (magic: RdbMagic, version: number) => boolean;
  /**
   * Pause after emitting about this many bytes of values in one write()/end()/continue(): `paused`
   * is then true and the rest of the input waits for continue(). LZF-compressed input can expand a
   * hundredfold (a few MB of RDB → hundreds of MB of values); without a budget all of it would be
   * emitted in one call, before the consumer could apply backpressure. Default: never pause.
   */
  outputBudget?: number;
  /**
   * Also treat a decoded value as big when its decoded size crosses `bigKeyThreshold` (not only its
   * encoded size): a compressible collection under the threshold in the RDB can decode to ~88× it.
   * Default true, except when `dumps` answered true (values are then passed on compressed, and the
   * only ones decoded are streams, which always follow this rule).
   */
  bigByDecodedSize?: boolean;
}

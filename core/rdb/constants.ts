import type { RdbMagic, RdbValueType } from "./types.ts";

/** Opcodes that may appear where a key's type byte would (rdb.h, Redis 7.4/8 and Valkey 8). */
export const RDB_OPCODE = {
  /** Redis 8 / Valkey 8 cluster mode: slot id, keys in slot, expires in slot (three lengths). */
  SLOT_INFO: 244,
  FUNCTION2: 245,
  /** Redis 7.0 rc1/rc2 only; Redis GA refuses it, we read it for completeness. */
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** RDB value type bytes (rdb.h). */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
  /** Redis 7.4+ only (RDB 12): hash field expiry. Valkey does not use these numbers the same way. */
  HASH_METADATA_PRE_GA: 22,
  HASH_LISTPACK_EX_PRE_GA: 23,
  HASH_METADATA: 24,
  HASH_LISTPACK_EX: 25,
} as const;

export interface RdbTypeInfo {
  readonly name: string;
  readonly valueType: RdbValueType;
}

/** Types every Redis (RDB ≤ 11) and Valkey 8 know. */
const BASE_TYPES: Readonly<Record<number, RdbTypeInfo>> = {
  0: { name: "string", valueType: "string" },
  1: { name: "list (linked list)", valueType: "list" },
  2: { name: "set (hashtable)", valueType: "set" },
  3: { name: "zset (string scores)", valueType: "zset" },
  4: { name: "hash (hashtable)", valueType: "hash" },
  5: { name: "zset2 (binary scores)", valueType: "zset" },
  6: { name: "module (pre-GA)", valueType: "module" },
  7: { name: "module2", valueType: "module" },
  9: { name: "hash zipmap", valueType: "hash" },
  10: { name: "list ziplist", valueType: "list" },
  11: { name: "set intset", valueType: "set" },
  12: { name: "zset ziplist", valueType: "zset" },
  13: { name: "hash ziplist", valueType: "hash" },
  14: { name: "list quicklist", valueType: "list" },
  15: { name: "stream listpacks v1", valueType: "stream" },
  16: { name: "hash listpack", valueType: "hash" },
  17: { name: "zset listpack", valueType: "zset" },
  18: { name: "list quicklist2", valueType: "list" },
  19: { name: "stream listpacks v2", valueType: "stream" },
  20: { name: "set listpack", valueType: "set" },
  21: { name: "stream listpacks v3", valueType: "stream" },
};

/** Redis 7.4+ (RDB 12+) adds hash field expiry types 22–25. */
const REDIS_HFE_TYPES: Readonly<Record<number, RdbTypeInfo>> = {
  22: { name: "hash with field TTLs (7.4 RC)", valueType: "hash" },
  23: { name: "hash listpack-ex (7.4 RC)", valueType: "hash" },
  24: { name: "hash with field TTLs", valueType: "hash" },
  25: { name: "hash listpack-ex", valueType: "hash" },
};

/**
 * The type table for a header. Redis 7.4+/8 (REDIS, version ≥ 12) gives 22–25 to hash field
 * expiry. Valkey ≤ 8.1 writes a REDIS header with version ≤ 11, and Valkey 9 (VALKEY header,
 * version ≥ 80) numbers its new types differently; those are not decoded here, so they fail with a
 * clear error instead of being misread as a Redis type.
 */
export function typeTableFor(magic: RdbMagic, version: number): Readonly<Record<number, RdbTypeInfo>> {
  if (magic === "REDIS" && version >= 12) return { ...BASE_TYPES, ...REDIS_HFE_TYPES };
  return BASE_TYPES;
}

/** Highest RDB version we know how to read per magic (Redis 7.4/8: 12; Valkey 9: 80). */
export const MAX_KNOWN_VERSION: Readonly<Record<RdbMagic, number>> = { REDIS: 12, VALKEY: 80 } as const;

/** Quicklist 2 node containers (quicklist.h). */
export const QUICKLIST_NODE = { PLAIN: 1, PACKED: 2 } as const;

/** Module value opcodes (rdb.h RDB_MODULE_OPCODE_*). */
export const MODULE_OPCODE = { EOF: 0, SINT: 1, UINT: 2, FLOAT: 3, DOUBLE: 4, STRING: 5 } as const;

/** Stream listpack entry flags (t_stream.c). */
export const STREAM_ITEM_FLAG = { DELETED: 1, SAMEFIELDS: 2 } as const;

/**
 * Caps against corrupt lengths: nothing is allocated from a declared length before the bytes
 * exist, but a string longer than Redis' own proto-max-bulk-len ceiling is refused outright.
 */
export const MAX_STRING_BYTES = 512 * 1024 * 1024;

// 16 MiB: a value is held raw up to the threshold before the parser knows it is big, so the
// threshold is part of ferry's peak memory (bench: a 200 MiB list peaks at 335 MiB RSS with 64 MiB,
// 228 MiB with 16 MiB); values above it are written in chunks, which the target takes as fast.
export const DEFAULT_BIG_KEY_THRESHOLD = 16 * 1024 * 1024;

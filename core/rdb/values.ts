import { QUICKLIST_NODE, RDB_TYPE } from "./constants.ts";
import { bufferSize, type ParseContext, pause, ValueCollector } from "./context.ts";
import {
  decodeIntset,
  decodeListpack,
  decodeZiplist,
  decodeZipmap,
  type PackedValue,
  packedToBuffer,
  packedToNumber,
  parseScore,
  parseScoreText,
} from "./encodings.ts";
import type { Need } from "./input.ts";
import { lzfSlices } from "./lzf.ts";
import { readModuleValue } from "./module.ts";
import { readStreamValue } from "./stream.ts";
import { peekLzfHeader, readString, tryString } from "./strings.ts";
import type { HashEntry, KeyMeta, ZsetEntry } from "./types.ts";

/**
 * One reader per RDB value type (rdbLoadObject in rdb.c). Each consumes exactly the value's bytes
 * and emits `key` or `key-begin`/`key-chunk`/`key-end` through a ValueCollector.
 */
export type ValueReader = (ctx: ParseContext, meta: KeyMeta, valueStart: number) => Need<void>;

const zsetSize = (e: ZsetEntry): number => e.member.length + 16;
const hashSize = (e: HashEntry): number => e.field.length + e.value.length + 16;

function* readBlob(ctx: ParseContext): Need<{ blob: Buffer; at: number }> {
  const at = ctx.inp.offset;
  const blob = tryString(ctx.inp) ?? (yield* readString(ctx.inp));
  return { blob, at };
}

function* stringValue(ctx: ParseContext, meta: KeyMeta): Need<void> {
  const inp = ctx.inp;
  while (!inp.peekLen()) yield* inp.ensure(inp.available + 1);
  if (!inp.lenEncoded && inp.lenValue > ctx.bigKeyThreshold) {
    // A big plain string is passed on in slices as it arrives, never held whole.
    let remaining = inp.lenValue;
    inp.pos += inp.lenSize;
    inp.mark = -1;
    ctx.emit({ kind: "key-begin", meta, valueType: "string" });
    while (remaining > 0) {
      const n = Math.min(ctx.chunkBytes, remaining);
      yield* inp.ensure(n);
      ctx.emitted += n;
      ctx.emit({ kind: "key-chunk", meta, chunk: { type: "string", value: inp.take(n) } });
      remaining -= n;
      yield* pause(ctx);
    }
    ctx.emit({ kind: "key-end", meta });
    return;
  }
  if (inp.lenEncoded && inp.lenValue === 3) {
    let header = peekLzfHeader(inp);
    while (header === null) {
      yield* inp.ensure(inp.available + 1);
      header = peekLzfHeader(inp);
    }
    if (header.length > ctx.bigKeyThreshold) {
      // Held: the compressed bytes only. Out: windowed decompression in chunkBytes slices.
      inp.mark = -1;
      yield* inp.ensure(header.headerBytes + header.compressedLength);
      const at = inp.offset;
      inp.pos += header.headerBytes;
      // A copy, not a view of the input: the parser may pause between slices, and the input
      // buffer is reused when more bytes arrive.
      const compressed = inp.take(header.compressedLength);
      ctx.emit({ kind: "key-begin", meta, valueType: "string" });
      for (const value of lzfSlices(compressed, header.length, ctx.chunkBytes, at)) {
        ctx.emitted += value.length;
        ctx.emit({ kind: "key-chunk", meta, chunk: { type: "string", value } });
        yield* pause(ctx);
      }
      ctx.emit({ kind: "key-end", meta });
      return;
    }
  }
  const start = inp.offset;
  const value = tryString(inp) ?? (yield* readString(inp));
  ctx.emitted += value.length;
  ctx.emit(
    ctx.captureRaw
      ? { kind: "key", meta, value: { type: "string", value }, raw: inp.copyRange(start, inp.offset) }
      : { kind: "key", meta, value: { type: "string", value } },
  );
}

/** Types 1 and 2: a count, then that many strings. */
function* elementsValue(ctx: ParseContext, meta: KeyMeta, start: number, type: "list" | "set"): Need<void> {
  const inp = ctx.inp;
  const count = yield* inp.readLen();
  const col = new ValueCollector(ctx, meta, type, start, bufferSize);
  for (let i = 0; i < count; i++) {
    col.push(tryString(inp) ?? (yield* readString(inp)));
    if (col.check()) yield* pause(ctx);
  }
  col.finish((value) => ({ type, value }));
}

/** Type 3: member + score as text with a one-byte length (253 NaN, 254 +inf, 255 -inf). */
function* zsetTextValue(ctx: ParseContext, meta: KeyMeta, start: number): Need<void> {
  const inp = ctx.inp;
  const count = yield* inp.readLen();
  const col = new ValueCollector(ctx, meta, "zset", start, zsetSize);
  for (let i = 0; i < count; i++) {
    const member = tryString(inp) ?? (yield* readString(inp));
    yield* inp.ensure(1);
    const len = inp.u8();
    let score: number;
    if (len === 253) throw inp.error("zset score is NaN, which Redis never writes");
    if (len === 254) score = Number.POSITIVE_INFINITY;
    else if (len === 255) score = Number.NEGATIVE_INFINITY;
    else {
      yield* inp.ensure(len);
      score = parseScoreText(inp.view(len).toString("latin1"), inp.offset, inp.key);
    }
    col.push({ member, score });
    if (col.check()) yield* pause(ctx);
  }
  col.finish((value) => ({ type: "zset", value }));
}

/** Type 5: member + score as a little-endian binary double. */
function* zsetBinaryValue(ctx: ParseContext, meta: KeyMeta, start: number): Need<void> {
  const inp = ctx.inp;
  const count = yield* inp.readLen();
  const col = new ValueCollector(ctx, meta, "zset", start, zsetSize);
  for (let i = 0; i < count; i++) {
    const member = tryString(inp) ?? (yield* readString(inp));
    yield* inp.ensure(8);
    const score = inp.buf.readDoubleLE(inp.pos);
    inp.pos += 8;
    if (Number.isNaN(score)) throw inp.error("zset score is NaN, which Redis never writes");
    col.push({ member, score });
    if (col.check()) yield* pause(ctx);
  }
  col.finish((value) => ({ type: "zset", value }));
}

/** Type 4: field + value strings. */
function* hashValue(ctx: ParseContext, meta: KeyMeta, start: number): Need<void> {
  const inp = ctx.inp;
  const count = yield* inp.readLen();
  const col = new ValueCollector(ctx, meta, "hash", start, hashSize);
  for (let i = 0; i < count; i++) {
    const field = tryString(inp) ?? (yield* readString(inp));
    const value = tryString(inp) ?? (yield* readString(inp));
    col.push({ field, value });
    if (col.check()) yield* pause(ctx);
  }
  col.finish((value) => ({ type: "hash", value }));
}

/**
 * Types 22/24 (Redis 7.4+): per field a TTL length, field, value. 24 stores the TTL relative to a
 * leading minExpire (+1, since 0 means "no TTL"); 22 (7.4 RC) stores it absolute.
 */
function* hashMetadataValue(ctx: ParseContext, meta: KeyMeta, start: number, relative: boolean): Need<void> {
  const inp = ctx.inp;
  const minExpire = relative ? yield* inp.readMillis() : 0;
  const count = yield* inp.readLen();
  const col = new ValueCollector(ctx, meta, "hash", start, hashSize);
  for (let i = 0; i < count; i++) {
    const ttl = yield* inp.readLen();
    const field = tryString(inp) ?? (yield* readString(inp));
    const value = tryString(inp) ?? (yield* readString(inp));
    const expireAt = ttl === 0 ? 0 : relative ? ttl + minExpire - 1 : ttl;
    col.push(expireAt ? { field, value, expireAtMs: expireAt } : { field, value });
    if (col.check()) yield* pause(ctx);
  }
  col.finish((value) => ({ type: "hash", value }));
}

type PackedDecoder = (blob: Buffer, offset: number, key?: Buffer) => PackedValue[];

/** One packed blob holding a list or set (ziplist/listpack/intset). */
function packedElements(decode: PackedDecoder, type: "list" | "set"): ValueReader {
  return function* (ctx, meta, start) {
    const { blob, at } = yield* readBlob(ctx);
    const col = new ValueCollector(ctx, meta, type, start, bufferSize);
    for (const v of decode(blob, at, ctx.inp.key)) col.push(packedToBuffer(v));
    if (col.check()) yield* pause(ctx);
    col.finish((value) => ({ type, value }));
  };
}

/** One packed blob of member, score pairs. */
function packedZset(decode: PackedDecoder): ValueReader {
  return function* (ctx, meta, start) {
    const { blob, at } = yield* readBlob(ctx);
    const items = decode(blob, at, ctx.inp.key);
    if (items.length % 2 !== 0) throw ctx.inp.error("packed zset has an odd number of entries", at);
    const col = new ValueCollector(ctx, meta, "zset", start, zsetSize);
    for (let i = 0; i < items.length; i += 2)
      col.push({ member: packedToBuffer(items[i]!), score: parseScore(items[i + 1]!, at, ctx.inp.key) });
    if (col.check()) yield* pause(ctx);
    col.finish((value) => ({ type: "zset", value }));
  };
}

/** One packed blob of field, value pairs (or field, value, ttl triplets for listpack-ex). */
function packedHash(decode: PackedDecoder, withTtl: "none" | "listpack-ex" | "listpack-ex-rc"): ValueReader {
  return function* (ctx, meta, start) {
    // Listpack-ex (25) leads with the hash's minimum field expiry; only a cache, not needed here.
    if (withTtl === "listpack-ex") yield* ctx.inp.readMillis();
    const { blob, at } = yield* readBlob(ctx);
    const items = decode(blob, at, ctx.inp.key);
    const width = withTtl === "none" ? 2 : 3;
    if (items.length % width !== 0) throw ctx.inp.error(`packed hash has ${items.length} entries`, at);
    const col = new ValueCollector(ctx, meta, "hash", start, hashSize);
    for (let i = 0; i < items.length; i += width) {
      const field = packedToBuffer(items[i]!);
      const value = packedToBuffer(items[i + 1]!);
      // HASH_LP_NO_TTL is 0: a field without a TTL.
      const ttl = width === 3 ? packedToNumber(items[i + 2]!, at, ctx.inp.key) : 0;
      col.push(ttl ? { field, value, expireAtMs: ttl } : { field, value });
    }
    if (col.check()) yield* pause(ctx);
    col.finish((value) => ({ type: "hash", value }));
  };
}

const zipmapHash: ValueReader = packedHash((blob, at, key) => decodeZipmap(blob, at, key), "none");

/** Type 14: a count of ziplist nodes. Type 18: per node a container (plain/packed) and a blob. */
function quicklist(version: 1 | 2): ValueReader {
  return function* (ctx, meta, start) {
    const inp = ctx.inp;
    const nodes = yield* inp.readLen();
    const col = new ValueCollector(ctx, meta, "list", start, bufferSize);
    for (let n = 0; n < nodes; n++) {
      const container = version === 2 ? yield* inp.readLen() : QUICKLIST_NODE.PACKED;
      const { blob, at } = yield* readBlob(ctx);
      if (container === QUICKLIST_NODE.PLAIN) {
        col.push(blob);
      } else if (container === QUICKLIST_NODE.PACKED) {
        const items = version === 2 ? decodeListpack(blob, at, inp.key) : decodeZiplist(blob, at, inp.key);
        // An empty node is skipped, as rdb.c does ("silently skip empty ziplists/listpacks").
        for (const v of items) col.push(packedToBuffer(v));
      } else {
        throw inp.error(`unknown quicklist node container ${container}`, at);
      }
      if (col.check()) yield* pause(ctx);
    }
    col.finish((value) => ({ type: "list", value }));
  };
}

function* modulePreGa(ctx: ParseContext): Need<void> {
  const id = yield* ctx.inp.readLenBig();
  throw ctx.inp.error(
    `module value of type 6 (Redis 4.0 release-candidate format, module id ${id}) cannot be skipped without the module`,
  );
}

export const VALUE_READERS: Readonly<Record<number, ValueReader>> = {
  [RDB_TYPE.STRING]: (ctx, meta) => stringValue(ctx, meta),
  [RDB_TYPE.LIST]: (ctx, meta, start) => elementsValue(ctx, meta, start, "list"),
  [RDB_TYPE.SET]: (ctx, meta, start) => elementsValue(ctx, meta, start, "set"),
  [RDB_TYPE.ZSET]: zsetTextValue,
  [RDB_TYPE.HASH]: hashValue,
  [RDB_TYPE.ZSET_2]: zsetBinaryValue,
  [RDB_TYPE.MODULE_PRE_GA]: (ctx) => modulePreGa(ctx),
  [RDB_TYPE.MODULE_2]: readModuleValue,
  [RDB_TYPE.HASH_ZIPMAP]: zipmapHash,
  [RDB_TYPE.LIST_ZIPLIST]: packedElements(decodeZiplist, "list"),
  [RDB_TYPE.SET_INTSET]: packedElements(decodeIntset, "set"),
  [RDB_TYPE.ZSET_ZIPLIST]: packedZset(decodeZiplist),
  [RDB_TYPE.HASH_ZIPLIST]: packedHash(decodeZiplist, "none"),
  [RDB_TYPE.LIST_QUICKLIST]: quicklist(1),
  [RDB_TYPE.STREAM_LISTPACKS]: (ctx, meta, start) => readStreamValue(ctx, meta, start, 1),
  [RDB_TYPE.HASH_LISTPACK]: packedHash(decodeListpack, "none"),
  [RDB_TYPE.ZSET_LISTPACK]: packedZset(decodeListpack),
  [RDB_TYPE.LIST_QUICKLIST_2]: quicklist(2),
  [RDB_TYPE.STREAM_LISTPACKS_2]: (ctx, meta, start) => readStreamValue(ctx, meta, start, 2),
  [RDB_TYPE.SET_LISTPACK]: packedElements(decodeListpack, "set"),
  [RDB_TYPE.STREAM_LISTPACKS_3]: (ctx, meta, start) => readStreamValue(ctx, meta, start, 3),
  [RDB_TYPE.HASH_METADATA_PRE_GA]: (ctx, meta, start) => hashMetadataValue(ctx, meta, start, false),
  [RDB_TYPE.HASH_LISTPACK_EX_PRE_GA]: packedHash(decodeListpack, "listpack-ex-rc"),
  [RDB_TYPE.HASH_METADATA]: (ctx, meta, start) => hashMetadataValue(ctx, meta, start, true),
  [RDB_TYPE.HASH_LISTPACK_EX]: packedHash(decodeListpack, "listpack-ex"),
};

import { MAX_STRING_BYTES, QUICKLIST_NODE, RDB_TYPE } from "./constants.ts";
import type { ParseContext } from "./context.ts";
import type { ByteInput, Need } from "./input.ts";
import { peekLzfHeader } from "./strings.ts";

/**
 * Finding a value's end without decoding it, for keys whose raw bytes go to the target as a RESTORE
 * payload: nothing of the value is allocated, only its length headers are read (for a packed
 * encoding — listpack, ziplist, intset, zipmap — that is the one blob's length).
 *
 * `skipValue` answers other than "dump" when the value must go through the decoding readers: it is
 * above the big-key threshold (chunked), empty (rdb.c drops empty collections, and RESTORE would
 * refuse one), a stream or module (rare; their decoders capture the raw bytes anyway), or a type
 * this table does not know. The caller then rewinds to the value's start (the bytes are held from
 * there by the input's mark) and decodes as usual, so both paths give the same result.
 */

const INT_ENCODING_BYTES = [1, 2, 4] as const;
const ENC_LZF = 3;
/**
 * rdbSaveRawString compresses only strings longer than 20 bytes, and an empty listpack (7 bytes),
 * ziplist (11), intset (8) or zipmap (2) is shorter: an LZF blob this long is never empty.
 */
const LZF_MIN_BLOB = 21;

/** Set by trySkipString: bytes it was waiting for, and what it skipped. */
let wanted = 0;
/** Index in inp.buf of a plain string's first byte, or -1 for an int/LZF-encoded one. */
let plainAt = -1;
let skippedLength = 0;

/** Skips the RDB string at the cursor if all of its bytes have arrived; false with nothing consumed. */
function trySkipString(inp: ByteInput): boolean {
  if (!inp.peekLen()) {
    wanted = inp.available + 1;
    return false;
  }
  const hdr = inp.lenSize;
  if (!inp.lenEncoded) {
    const len = inp.lenValue;
    if (len > MAX_STRING_BYTES)
      throw inp.error(`string length ${len} exceeds the ${MAX_STRING_BYTES}-byte cap`);
    if (inp.available < hdr + len) {
      wanted = hdr + len;
      return false;
    }
    plainAt = inp.pos + hdr;
    skippedLength = len;
    inp.pos += hdr + len;
    return true;
  }
  const kind = inp.lenValue;
  if (kind === ENC_LZF) {
    const h = peekLzfHeader(inp);
    if (h === null || inp.available < h.headerBytes + h.compressedLength) {
      wanted = h === null ? inp.available + 1 : h.headerBytes + h.compressedLength;
      return false;
    }
    plainAt = -1;
    skippedLength = h.length;
    inp.pos += h.headerBytes + h.compressedLength;
    return true;
  }
  const width = INT_ENCODING_BYTES[kind as 0 | 1 | 2];
  if (width === undefined) throw inp.error(`unknown string encoding ${kind}`);
  if (inp.available < 1 + width) {
    wanted = 1 + width;
    return false;
  }
  plainAt = -1;
  skippedLength = 1;
  inp.pos += 1 + width;
  return true;
}

function* skipString(inp: ByteInput): Need<void> {
  while (!trySkipString(inp)) yield* inp.ensure(wanted);
}

function* skipBytes(inp: ByteInput, n: number): Need<void> {
  yield* inp.ensure(n);
  inp.pos += n;
}

/** Element count read from a packed blob's header; -1 when it cannot be read without decoding. */
type CountOf = (buf: Buffer, at: number, length: number) => number;

const u16At =
  (offset: number): CountOf =>
  (buf, at, length) =>
    length >= offset + 2 ? buf.readUInt16LE(at + offset) : 0;
const LISTPACK_COUNT = u16At(4);
const ZIPLIST_COUNT = u16At(8);
const INTSET_COUNT: CountOf = (buf, at, length) => (length >= 8 ? buf.readUInt32LE(at + 4) : 0);
const ZIPMAP_COUNT: CountOf = (buf, at, length) => (length >= 1 ? buf[at]! : 0);

/** Skips one packed blob; true when it holds at least one element (or may: LZF-compressed). */
function* skipBlob(inp: ByteInput, countOf: CountOf): Need<boolean> {
  yield* skipString(inp);
  if (plainAt < 0) return skippedLength >= LZF_MIN_BLOB;
  return countOf(inp.buf, plainAt, skippedLength) !== 0;
}

/**
 * "dump": the value is whole and small, its bytes are [start, offset). "decode": let the decoding
 * reader take it (empty, unknown, or of a kind only it handles). "big": it crossed the big-key
 * threshold; the decoding reader then chunks it from its first element.
 */
export type SkipResult = "dump" | "decode" | "big";

type Skipper = (ctx: ParseContext, start: number) => Need<SkipResult>;

const tooBig = (ctx: ParseContext, start: number): boolean => ctx.inp.offset - start > ctx.bigKeyThreshold;

function* skipPlainString(ctx: ParseContext): Need<SkipResult> {
  const inp = ctx.inp;
  while (!inp.peekLen()) yield* inp.ensure(inp.available + 1);
  // The same test as the decoding reader: a string is big by its decoded length.
  if (!inp.lenEncoded && inp.lenValue > ctx.bigKeyThreshold) return "decode";
  if (inp.lenEncoded && inp.lenValue === ENC_LZF) {
    let header = peekLzfHeader(inp);
    while (header === null) {
      yield* inp.ensure(inp.available + 1);
      header = peekLzfHeader(inp);
    }
    if (header.length > ctx.bigKeyThreshold) return "decode";
  }
  yield* skipString(inp);
  return "dump";
}

/** Hashtable encodings: a count, then per element `strings` strings and `fixed` more bytes. */
function counted(strings: 1 | 2, fixed: number, ttlPrefix: 0 | 8 = 0, perElementLen = false): Skipper {
  return function* (ctx, start) {
    const inp = ctx.inp;
    if (ttlPrefix) yield* skipBytes(inp, ttlPrefix);
    const count = yield* inp.readLen();
    if (count === 0) return "decode";
    for (let i = 0; i < count; i++) {
      if (perElementLen) yield* inp.readLen();
      if (!trySkipString(inp)) yield* skipString(inp);
      if (strings === 2 && !trySkipString(inp)) yield* skipString(inp);
      if (fixed) yield* skipBytes(inp, fixed);
      if (tooBig(ctx, start)) return "big";
    }
    return "dump";
  };
}

/** Type 3: a score is a length byte then text, except 253/254/255 (NaN, ±inf) which stand alone. */
function* skipZsetText(ctx: ParseContext, start: number): Need<SkipResult> {
  const inp = ctx.inp;
  const count = yield* inp.readLen();
  if (count === 0) return "decode";
  for (let i = 0; i < count; i++) {
    yield* skipString(inp);
    yield* inp.ensure(1);
    const len = inp.u8();
    if (len < 253) yield* skipBytes(inp, len);
    if (tooBig(ctx, start)) return "big";
  }
  return "dump";
}

function packed(countOf: CountOf, ttlPrefix: 0 | 8 = 0): Skipper {
  return function* (ctx, start) {
    if (ttlPrefix) yield* skipBytes(ctx.inp, ttlPrefix);
    const nonEmpty = yield* skipBlob(ctx.inp, countOf);
    return !nonEmpty ? "decode" : tooBig(ctx, start) ? "big" : "dump";
  };
}

/** Quicklists: empty nodes are dropped on load, so the key is empty only if every node is. */
function quicklist(version: 1 | 2): Skipper {
  return function* (ctx, start) {
    const inp = ctx.inp;
    const nodes = yield* inp.readLen();
    let nonEmpty = false;
    for (let n = 0; n < nodes; n++) {
      const container = version === 2 ? yield* inp.readLen() : QUICKLIST_NODE.PACKED;
      if (container === QUICKLIST_NODE.PLAIN) {
        yield* skipString(inp);
        nonEmpty = true;
      } else if (container === QUICKLIST_NODE.PACKED) {
        if (yield* skipBlob(inp, version === 2 ? LISTPACK_COUNT : ZIPLIST_COUNT)) nonEmpty = true;
      } else {
        return "decode"; // the decoding reader reports the unknown container
      }
      if (tooBig(ctx, start)) return "big";
    }
    return nonEmpty ? "dump" : "decode";
  };
}

const SKIPPERS: Readonly<Record<number, Skipper>> = {
  [RDB_TYPE.STRING]: (ctx) => skipPlainString(ctx),
  [RDB_TYPE.LIST]: counted(1, 0),
  [RDB_TYPE.SET]: counted(1, 0),
  [RDB_TYPE.ZSET]: skipZsetText,
  [RDB_TYPE.HASH]: counted(2, 0),
  [RDB_TYPE.ZSET_2]: counted(1, 8),
  [RDB_TYPE.HASH_ZIPMAP]: packed(ZIPMAP_COUNT),
  [RDB_TYPE.LIST_ZIPLIST]: packed(ZIPLIST_COUNT),
  [RDB_TYPE.SET_INTSET]: packed(INTSET_COUNT),
  [RDB_TYPE.ZSET_ZIPLIST]: packed(ZIPLIST_COUNT),
  [RDB_TYPE.HASH_ZIPLIST]: packed(ZIPLIST_COUNT),
  [RDB_TYPE.LIST_QUICKLIST]: quicklist(1),
  [RDB_TYPE.HASH_LISTPACK]: packed(LISTPACK_COUNT),
  [RDB_TYPE.ZSET_LISTPACK]: packed(LISTPACK_COUNT),
  [RDB_TYPE.LIST_QUICKLIST_2]: quicklist(2),
  [RDB_TYPE.SET_LISTPACK]: packed(LISTPACK_COUNT),
  // Redis 7.4+ hash field expiry: 22 absolute TTLs, 24 relative to a leading minExpire.
  [RDB_TYPE.HASH_METADATA_PRE_GA]: counted(2, 0, 0, true),
  [RDB_TYPE.HASH_LISTPACK_EX_PRE_GA]: packed(LISTPACK_COUNT),
  [RDB_TYPE.HASH_METADATA]: counted(2, 0, 8, true),
  [RDB_TYPE.HASH_LISTPACK_EX]: packed(LISTPACK_COUNT, 8),
};

/**
 * Moves the cursor over the value of type `op` starting at the cursor (absolute `start`). Unless
 * the answer is "dump", the cursor is then anywhere inside the value and the caller rewinds.
 */
export function* skipValue(ctx: ParseContext, op: number, start: number): Need<SkipResult> {
  const skipper = SKIPPERS[op];
  if (!skipper) return "decode";
  return yield* skipper(ctx, start);
}

import { STREAM_ITEM_FLAG } from "./constants.ts";
import { type ParseContext, pause, ValueCollector } from "./context.ts";
import {
  decodeListpack,
  type PackedValue,
  packedToBigInt,
  packedToBuffer,
  packedToNumber,
} from "./encodings.ts";
import { RdbFormatError } from "./errors.ts";
import type { Need } from "./input.ts";
import { readString, tryString } from "./strings.ts";
import type {
  KeyMeta,
  StreamConsumer,
  StreamEntry,
  StreamGroup,
  StreamId,
  StreamMeta,
  StreamPendingEntry,
} from "./types.ts";

/**
 * Streams (types 15/19/21, rdb.c + t_stream.c): listpack nodes keyed by their 128-bit master id,
 * then length and last id, (v2+) first id, max deleted id and entries added, then the consumer
 * groups with their PEL and consumers ((v2+) entries-read, (v3) consumer active-time).
 *
 * Each node's listpack starts with a master entry (count, deleted, field names, 0); each entry is
 * flags, ms-delta, seq-delta, then either the values only (SAMEFIELDS: the master's fields) or a
 * field count and field/value pairs, and finally the entry's element count (lp-count).
 */

const entrySize = (e: StreamEntry): number => e.fields.reduce((n, f) => n + f.length + 8, 24);

function rawId(buf: Buffer, at = 0): StreamId {
  return { ms: buf.readBigUInt64BE(at), seq: buf.readBigUInt64BE(at + 8) };
}

function decodeNode(nodeKey: Buffer, lp: Buffer, at: number, key: Buffer | undefined): StreamEntry[] {
  if (nodeKey.length !== 16)
    throw new RdbFormatError(`stream node key has ${nodeKey.length} bytes, expected 16`, at, key);
  const master = rawId(nodeKey);
  const items = decodeListpack(lp, at, key);
  let i = 0;
  const next = (): PackedValue => {
    const v = items[i++];
    if (v === undefined) throw new RdbFormatError("stream listpack ends inside an entry", at, key);
    return v;
  };
  const int = (): number => packedToNumber(next(), at, key);
  const count = int();
  const deleted = int();
  const masterFieldCount = int();
  const masterFields: Buffer[] = [];
  for (let f = 0; f < masterFieldCount; f++) masterFields.push(packedToBuffer(next()));
  next(); // the master entry's terminating 0
  const out: StreamEntry[] = [];
  for (let e = 0; e < count + deleted; e++) {
    const flags = int();
    const ms = master.ms + packedToBigInt(next(), at, key);
    const seq = master.seq + packedToBigInt(next(), at, key);
    const fields: Buffer[] = [];
    if (flags & STREAM_ITEM_FLAG.SAMEFIELDS) {
      for (const field of masterFields) fields.push(field, packedToBuffer(next()));
    } else {
      const n = int();
      for (let f = 0; f < n; f++) fields.push(packedToBuffer(next()), packedToBuffer(next()));
    }
    next(); // lp-count, used to walk the listpack backwards
    // Deleted entries stay in the listpack until the node is rewritten; XRANGE never shows them.
    if (!(flags & STREAM_ITEM_FLAG.DELETED)) out.push({ id: { ms, seq }, fields });
  }
  if (i !== items.length)
    throw new RdbFormatError("stream listpack has entries after its last item", at, key);
  return out;
}

function* readId(ctx: ParseContext): Need<StreamId> {
  const ms = yield* ctx.inp.readLenBig();
  const seq = yield* ctx.inp.readLenBig();
  return { ms, seq };
}

function* readRawId(ctx: ParseContext): Need<StreamId> {
  yield* ctx.inp.ensure(16);
  return rawId(ctx.inp.view(16));
}

/** Lengths that Redis stores as a uint64 but that are -1 when unknown (SCG_INVALID_ENTRIES_READ). */
function signedCount(v: bigint): number {
  return v === 0xffffffffffffffffn ? -1 : Number(v);
}

export function* readStreamValue(
  ctx: ParseContext,
  meta: KeyMeta,
  start: number,
  version: 1 | 2 | 3,
): Need<void> {
  const inp = ctx.inp;
  const nodes = yield* inp.readLen();
  const col = new ValueCollector(ctx, meta, "stream", start, entrySize);
  for (let n = 0; n < nodes; n++) {
    const nodeKey = tryString(inp) ?? (yield* readString(inp));
    const at = inp.offset;
    const lp = tryString(inp) ?? (yield* readString(inp));
    for (const entry of decodeNode(nodeKey, lp, at, inp.key)) col.push(entry);
    if (col.check()) yield* pause(ctx);
  }
  const length = Number(yield* inp.readLenBig());
  const lastId = yield* readId(ctx);
  const streamMeta: StreamMeta = { length, lastId, groups: [] };
  if (version >= 2) {
    streamMeta.firstId = yield* readId(ctx);
    streamMeta.maxDeletedId = yield* readId(ctx);
    streamMeta.entriesAdded = Number(yield* inp.readLenBig());
  }
  const groupCount = yield* inp.readLen();
  for (let g = 0; g < groupCount; g++) {
    const name = tryString(inp) ?? (yield* readString(inp));
    const groupLastId = yield* readId(ctx);
    const group: StreamGroup = { name, lastId: groupLastId, pending: [], consumers: [] };
    if (version >= 2) group.entriesRead = signedCount(yield* inp.readLenBig());
    const pelCount = yield* inp.readLen();
    for (let p = 0; p < pelCount; p++) {
      const id = yield* readRawId(ctx);
      const deliveryTime = yield* inp.readMillis();
      const deliveryCount = yield* inp.readLen();
      const entry: StreamPendingEntry = { id, deliveryTime, deliveryCount };
      group.pending.push(entry);
    }
    const consumerCount = yield* inp.readLen();
    for (let c = 0; c < consumerCount; c++) {
      const consumerName = tryString(inp) ?? (yield* readString(inp));
      const seenTime = yield* inp.readMillis();
      const consumer: StreamConsumer = { name: consumerName, seenTime, pending: [] };
      if (version >= 3) consumer.activeTime = yield* inp.readMillis();
      const owned = yield* inp.readLen();
      for (let p = 0; p < owned; p++) consumer.pending.push(yield* readRawId(ctx));
      group.consumers.push(consumer);
    }
    streamMeta.groups.push(group);
  }
  col.finish((value) => ({ type: "stream", value, meta: streamMeta }), streamMeta);
}

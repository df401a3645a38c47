import type { RdbTypeInfo } from "./constants.ts";
import type { ByteInput, Need } from "./input.ts";
import type { KeyMeta, RdbChunk, RdbEvent, RdbMagic, RdbValue, StreamMeta } from "./types.ts";

/** What every value reader gets: the input, the resolved options, and the event sink. */
export interface ParseContext {
  readonly inp: ByteInput;
  readonly bigKeyThreshold: number;
  readonly chunkBytes: number;
  readonly captureRaw: boolean;
  readonly modules: "capture" | "fail";
  readonly dumps: (magic: RdbMagic, version: number) => boolean;
  /** dumps() as answered at the header. */
  dumping: boolean;
  /** The value about to be read is known to cross bigKeyThreshold (dumps mode found out). */
  knownBig: boolean;
  /** RdbParserOptions.bigByDecodedSize; undefined: on unless the RDB is read in dumps mode. */
  readonly bigByDecodedSize: boolean | undefined;
  readonly emit: (e: RdbEvent) => void;
  /** Bytes of values emitted since the parser last resumed, and the budget per resume. */
  emitted: number;
  readonly outputBudget: number;
  /** Set by pause(): the generator yielded for the consumer, not for input. */
  paused: boolean;
  magic: RdbMagic;
  version: number;
  types: Readonly<Record<number, RdbTypeInfo>>;
}

/**
 * A point where the parser may stop for the consumer: when this resume's output budget is spent,
 * yield (the driver tells this yield from "need input" by `paused`). Call between elements only.
 */
export function* pause(ctx: ParseContext): Need<void> {
  if (ctx.emitted < ctx.outputBudget) return;
  ctx.paused = true;
  yield;
}

type ChunkItem<T extends RdbChunk["type"]> = Extract<RdbChunk, { type: T }>["value"][number];

/**
 * Collects a value's elements and decides, as the bytes go by, whether it comes whole or in chunks:
 * while the encoded size stays ≤ bigKeyThreshold everything is kept (plus the raw bytes when
 * captureRaw) and one `key` event is emitted at the end; the moment it crosses the threshold, the
 * raw capture is dropped, `key-begin` goes out with what was collected so far as chunks of about
 * chunkBytes, and from then on memory holds at most one chunk.
 */
export class ValueCollector<T extends RdbChunk["type"]> {
  private items: ChunkItem<T>[] = [];
  private pendingBytes = 0;
  /** Every item's size so far (pendingBytes restarts at each chunk). */
  private decodedBytes = 0;
  private big = false;
  private readonly knownBig: boolean;

  constructor(
    private readonly ctx: ParseContext,
    private readonly meta: KeyMeta,
    private readonly type: T,
    private readonly valueStart: number,
    private readonly sizeOf: (item: ChunkItem<T>) => number,
  ) {
    this.knownBig = ctx.knownBig;
  }

  push(item: ChunkItem<T>): void {
    const size = this.sizeOf(item);
    this.items.push(item);
    this.pendingBytes += size;
    this.decodedBytes += size;
  }

  /**
   * Past the threshold: by encoded size (what a RESTORE payload would weigh), and by decoded size
   * for streams and whenever bigByDecodedSize holds. Listpacks and strings are LZF-compressed in the
   * RDB, so a few MB of RDB can decode into hundreds of MB that would otherwise be held whole. (With
   * `dumps`, a compressible small value travels as its compressed payload and is never decoded;
   * streams are always decoded.)
   */
  private crossed(): boolean {
    const ctx = this.ctx;
    return (
      this.knownBig ||
      ctx.inp.offset - this.valueStart > ctx.bigKeyThreshold ||
      ((this.type === "stream" || (ctx.bigByDecodedSize ?? !ctx.dumping)) &&
        this.decodedBytes > ctx.bigKeyThreshold)
    );
  }

  /**
   * Call between elements: switches to chunked mode or emits a full chunk. True when this resume's
   * output budget is spent (the reader then yields through pause()).
   */
  check(): boolean {
    const ctx = this.ctx;
    if (!this.big) {
      if (!this.crossed()) return false;
      this.big = true;
      // The raw bytes would be as big as the value: a big key is rewritten as commands instead.
      ctx.inp.mark = -1;
      ctx.emit({ kind: "key-begin", meta: this.meta, valueType: this.type });
    }
    if (this.pendingBytes >= ctx.chunkBytes) this.flush(false);
    return ctx.emitted >= ctx.outputBudget;
  }

  private flush(all: boolean): void {
    const limit = this.ctx.chunkBytes;
    let from = 0;
    let bytes = 0;
    const items = this.items;
    for (let i = 0; i < items.length; i++) {
      bytes += this.sizeOf(items[i]!);
      if (bytes >= limit) {
        this.ctx.emitted += bytes;
        this.emitChunk(items.slice(from, i + 1));
        from = i + 1;
        bytes = 0;
      }
    }
    if (all && from < items.length) {
      this.ctx.emitted += bytes;
      this.emitChunk(items.slice(from));
      from = items.length;
      bytes = 0;
    }
    this.items = from === 0 ? items : items.slice(from);
    this.pendingBytes = bytes;
  }

  private emitChunk(value: ChunkItem<T>[]): void {
    const chunk = { type: this.type, value } as RdbChunk;
    this.ctx.emit({ kind: "key-chunk", meta: this.meta, chunk });
  }

  /** Ends the value: one `key` event (small) or the last chunk and `key-end` (big). */
  finish(build: (items: ChunkItem<T>[]) => RdbValue, streamMeta?: StreamMeta): void {
    const ctx = this.ctx;
    if (!this.big && this.crossed()) this.check();
    if (this.big) {
      this.flush(true);
      ctx.emit(
        streamMeta ? { kind: "key-end", meta: this.meta, streamMeta } : { kind: "key-end", meta: this.meta },
      );
      return;
    }
    // An empty list/set/zset/hash cannot exist in Redis: rdb.c skips it (RDB_LOAD_ERR_EMPTY_KEY).
    if (this.items.length === 0 && this.type !== "stream") return;
    ctx.emitted += this.pendingBytes;
    const value = build(this.items);
    ctx.emit(
      ctx.captureRaw
        ? { kind: "key", meta: this.meta, value, raw: ctx.inp.copyRange(this.valueStart, ctx.inp.offset) }
        : { kind: "key", meta: this.meta, value },
    );
  }
}

export function bufferSize(b: Buffer): number {
  return b.length + 8;
}

/**
 * Streaming RESP2/RESP3 decoder: a Buffer plus a cursor, resumable at any byte (STYLE.md, after
 * redis-parser). `next()` returns NEED_MORE instead of throwing on partial input.
 *
 * Copying is linear in the input, never quadratic:
 * - a chunk pushed while nothing is left over becomes the working buffer as is (no copy), and bulk
 *   strings inside it are returned as `subarray` views;
 * - partially received aggregates keep their finished elements on a stack, so a huge array is never
 *   re-parsed from its start when the next chunk arrives;
 * - once a bulk string header is read, later chunks are only queued until the whole body is there,
 *   then joined with one concat (a 512 MiB value arriving in 64 KiB reads costs one copy).
 *
 * The replication stream embeds a raw RDB payload between RESP frames, so the decoder also offers a
 * raw mode (`peekRaw`/`skip`/`peekByte`/`readLine`) over the same buffered bytes.
 */
import { constants } from "node:buffer";
import { RespProtocolError, showBytes } from "./errors.ts";
import {
  NEED_MORE,
  type NeedMore,
  RespDouble,
  RespErrorReply,
  type RespFrame,
  RespMap,
  RespPush,
  RespSet,
  RespSimpleString,
  type RespValue,
  RespVerbatim,
} from "./types.ts";

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/** First byte of every frame → its RESP type (RESP2 + RESP3 as in the Redis protocol spec). */
export const RESP_TYPE_BYTES = {
  43: "simple", // +
  45: "error", // -
  58: "integer", // :
  36: "bulk", // $
  42: "array", // *
  95: "null", // _
  44: "double", // ,
  35: "boolean", // #
  40: "bignum", // (
  33: "blobError", // !
  61: "verbatim", // =
  37: "map", // %
  126: "set", // ~
  62: "push", // >
  124: "attribute", // |
} as const;
type RespType = (typeof RESP_TYPE_BYTES)[keyof typeof RESP_TYPE_BYTES];
type AggregateKind = "array" | "set" | "push" | "map" | "attribute";

interface OpenAggregate {
  kind: AggregateKind;
  items: RespValue[];
  /** Elements still expected (maps and attributes count keys and values). */
  remaining: number;
}

/** A command frame found by RespDecoder.scanCommand: buf[start, end), its name buf[nameStart, nameEnd). */
export interface ScannedCommand {
  buf: Buffer;
  start: number;
  end: number;
  nameStart: number;
  nameEnd: number;
}

export interface RespDecoderOptions {
  /** Longest accepted bulk string; default Node's Buffer limit. */
  maxBulkLength?: number;
  /** Longest accepted line (headers, simple strings, errors) before giving up on CRLF. Default 1 MiB. */
  maxLineLength?: number;
  /** Most elements accepted in one aggregate. Default 2^31 - 1 (Redis' own limit for its master link). */
  maxAggregateLength?: number;
}

/** Internal: an aggregate header was read and pushed on the stack. */
const OPENED: unique symbol = Symbol("resp.opened");

/**
 * The simple strings a writer reads by the thousand (`+OK`, and `+QUEUED` for every command of a
 * MULTI block) come back as shared instances: no string and no object per reply.
 */
export const SIMPLE_OK = new RespSimpleString("OK");
export const SIMPLE_QUEUED = new RespSimpleString("QUEUED");

function simpleString(buf: Buffer, start: number, end: number): RespSimpleString {
  const length = end - start;
  if (length === 2 && buf[start] === 0x4f && buf[start + 1] === 0x4b) return SIMPLE_OK;
  if (length === 6 && buf[start] === 0x51 && buf[start + 1] === 0x55 && buf[start + 5] === 0x44) {
    // Q U … D: compare the rest only when the ends already match.
    if (buf[start + 2] === 0x45 && buf[start + 3] === 0x55 && buf[start + 4] === 0x45) return SIMPLE_QUEUED;
  }
  return new RespSimpleString(buf.toString("utf8", start, end));
}

const DOUBLE_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BIGNUM_TEXT = /^[+-]?\d+$/;

export class RespDecoder {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Absolute stream offset of buf[0]. */
  private base = 0;
  /** Chunks received but not yet joined into `buf` (waiting for a bulk body to complete). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes from `pos` the current element needs before parsing it again can progress (0 = unknown). */
  private needed = 0;
  private readonly stack: OpenAggregate[] = [];
  /** Absolute offset where the frame being decoded started; -1 between frames. */
  private frameStart = -1;
  private topAttributes: RespMap | undefined;
  private readonly maxBulk: number;
  private readonly maxLine: number;
  private readonly maxAggregate: number;

  constructor(options: RespDecoderOptions = {}) {
    this.maxBulk = options.maxBulkLength ?? constants.MAX_LENGTH - 2;
    this.maxLine = options.maxLineLength ?? 1024 * 1024;
    this.maxAggregate = options.maxAggregateLength ?? 2 ** 31 - 1;
  }

  /** Absolute number of bytes consumed (decoded frames, skipped and raw bytes). */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes received and not consumed yet. */
  get buffered(): number {
    return this.buf.length - this.pos + this.pendingBytes;
  }

  /** True while a frame has been started but not completed. */
  get inFrame(): boolean {
    return this.stack.length > 0 || this.topAttributes !== undefined;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos === this.buf.length && this.pendingBytes === 0) {
      this.base += this.buf.length;
      this.buf = chunk;
      this.pos = 0;
      return;
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /** The next complete top-level frame, or NEED_MORE (push more bytes and call again). */
  next(): RespFrame | NeedMore {
    for (;;) {
      if (this.frameStart < 0) this.frameStart = this.offset;
      const element = this.parseElement();
      if (element === NEED_MORE) {
        const available = this.buf.length - this.pos;
        if (this.pendingBytes > 0 && available + this.pendingBytes >= Math.max(this.needed, available + 1)) {
          this.join();
          continue;
        }
        return NEED_MORE;
      }
      if (element !== OPENED) {
        const frame = this.complete(element);
        if (frame) return frame;
      }
      for (let top = this.stack.at(-1); top !== undefined && top.remaining === 0; top = this.stack.at(-1)) {
        this.stack.pop();
        if (top.kind === "attribute") {
          // Attributes describe the value that follows; only top-level ones are surfaced.
          if (this.stack.length === 0) this.topAttributes = new RespMap(pairs(top.items));
          continue;
        }
        const frame = this.complete(buildAggregate(top));
        if (frame) return frame;
      }
    }
  }

  /**
   * The leanest hot path: when the next frame is an array of bulk strings held whole in the
   * current buffer, consumes it and describes it in `scanned` (positions in `scanned.buf`) without
   * building anything; false (nothing consumed) otherwise — then call next().
   */
  scanCommand(): boolean {
    if (this.inFrame) return false;
    const buf = this.buf;
    const start = this.pos;
    const end = buf.length;
    if (start >= end || buf[start] !== 0x2a) return false;
    let at = start + 1;
    let count = 0;
    for (let c = buf[at]; c !== undefined && c >= 0x30 && c <= 0x39; c = buf[++at])
      count = count * 10 + c - 0x30;
    if (at === start + 1 || at + 1 >= end || buf[at] !== CR || buf[at + 1] !== LF) return false;
    if (count === 0 || count > this.maxAggregate || count > 1024 * 1024) return false;
    at += 2;
    const scanned = this.scanned;
    for (let n = 0; n < count; n++) {
      if (at >= end || buf[at] !== 0x24) return false;
      const digitsAt = ++at;
      let length = 0;
      for (let c = buf[at]; c !== undefined && c >= 0x30 && c <= 0x39; c = buf[++at])
        length = length * 10 + c - 0x30;
      if (at === digitsAt || at - digitsAt > 15 || length > this.maxBulk) return false;
      const body = at + 2;
      if (body + length + 2 > end || buf[at] !== CR || buf[at + 1] !== LF) return false;
      if (buf[body + length] !== CR || buf[body + length + 1] !== LF) return false;
      if (n === 0) {
        scanned.nameStart = body;
        scanned.nameEnd = body + length;
      }
      at = body + length + 2;
    }
    this.pos = at;
    this.frameStart = -1;
    scanned.buf = buf;
    scanned.start = start;
    scanned.end = at;
    return true;
  }

  /**
   * Consumes up to `max` back-to-back copies of the complete frame `literal` (e.g. `+QUEUED\r\n`)
   * from the current buffer; returns how many. A writer reading a MULTI block's replies skips
   * thousands of identical frames this way instead of decoding each.
   */
  skipRepeated(literal: Buffer, max: number): number {
    if (this.inFrame) return 0;
    const buf = this.buf;
    const length = literal.length;
    let count = 0;
    while (count < max && this.pos + length <= buf.length) {
      const at = this.pos;
      let i = 0;
      while (i < length && buf[at + i] === literal[i]) i++;
      if (i < length) break;
      this.pos = at + length;
      count++;
    }
    return count;
  }

  /**
   * Consumes an array whose elements are all one-line non-error replies (`+…`, `:…`), held whole
   * in the current buffer, and returns its length; -1 (nothing consumed) for anything else. EXEC's
   * reply to a block of writes is such an array, and its elements carry nothing the writer needs.
   */
  skipCleanLineArray(): number {
    if (this.inFrame) return -1;
    const buf = this.buf;
    const start = this.pos;
    if (buf[start] !== 0x2a) return -1;
    let at = start + 1;
    let count = 0;
    for (let c = buf[at]; c !== undefined && c >= 0x30 && c <= 0x39; c = buf[++at])
      count = count * 10 + c - 0x30;
    if (at === start + 1 || buf[at] !== CR || buf[at + 1] !== LF) return -1;
    at += 2;
    for (let n = 0; n < count; n++) {
      const type = buf[at];
      if (type !== 0x2b && type !== 0x3a) return -1;
      let lf = at + 1;
      while (lf < buf.length && buf[lf] !== LF) lf++;
      if (lf >= buf.length || buf[lf - 1] !== CR) return -1;
      at = lf + 1;
    }
    this.pos = at;
    this.frameStart = -1;
    return count;
  }

  /** What the last successful scanCommand() found (overwritten by the next one). */
  readonly scanned: ScannedCommand = { buf: EMPTY, start: 0, end: 0, nameStart: 0, nameEnd: 0 };

  // ---- raw mode: the RDB payload travels inside the same socket --------------------------------

  /** Next unconsumed byte, or -1 if nothing is buffered. */
  peekByte(): number {
    this.assertBetweenFrames("peekByte");
    if (this.pos < this.buf.length) return this.buf[this.pos]!;
    return this.pending[0]?.[0] ?? -1;
  }

  /** A view of the next contiguous buffered bytes (not consumed), or null if nothing is buffered. */
  peekRaw(): Buffer | null {
    this.assertBetweenFrames("peekRaw");
    if (this.pos === this.buf.length) {
      const chunk = this.pending.shift();
      if (chunk === undefined) return null;
      this.pendingBytes -= chunk.length;
      this.base += this.buf.length;
      this.buf = chunk;
      this.pos = 0;
    }
    return this.buf.subarray(this.pos);
  }

  /** Consume `n` raw bytes (at most `buffered`). */
  skip(n: number): void {
    this.assertBetweenFrames("skip");
    if (n > this.buffered) throw new RangeError(`cannot skip ${n} bytes, only ${this.buffered} buffered`);
    let rest = n;
    while (rest > 0) {
      const view = this.peekRaw()!;
      const step = Math.min(rest, view.length);
      this.pos += step;
      rest -= step;
    }
  }

  /** A raw CRLF-terminated line without its CRLF (consumed), or NEED_MORE. */
  readLine(): Buffer | NeedMore {
    this.assertBetweenFrames("readLine");
    for (;;) {
      const cr = this.lineEnd(this.pos);
      if (cr >= 0) {
        const line = this.buf.subarray(this.pos, cr);
        this.pos = cr + 2;
        return line;
      }
      if (this.pendingBytes === 0) return NEED_MORE;
      this.join();
    }
  }

  // ---- internals --------------------------------------------------------------------------------

  private assertBetweenFrames(what: string): void {
    if (this.inFrame) throw new Error(`RespDecoder.${what}() called in the middle of a frame`);
    this.frameStart = -1;
  }

  /** Joins the unconsumed rest of `buf` with every pending chunk into one buffer. */
  private join(): void {
    const rest = this.buf.subarray(this.pos);
    this.base += this.pos;
    this.buf =
      rest.length === 0 && this.pending.length === 1
        ? this.pending[0]!
        : Buffer.concat([rest, ...this.pending], rest.length + this.pendingBytes);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }

  private complete(value: RespValue): RespFrame | null {
    const top = this.stack.at(-1);
    if (top !== undefined) {
      top.items.push(value);
      top.remaining--;
      return null;
    }
    const frame: RespFrame = { value, bytes: this.offset - this.frameStart };
    if (this.topAttributes !== undefined) frame.attributes = this.topAttributes;
    this.frameStart = -1;
    this.topAttributes = undefined;
    return frame;
  }

  private fail(at: number, expected: string): never {
    throw new RespProtocolError(this.base + at, expected, showBytes(this.buf, at));
  }

  /** Index of the CR of the first CRLF at or after `from`, or -1 if not buffered yet. */
  private lineEnd(from: number): number {
    const cr = this.buf.indexOf(CR, from);
    if (cr === -1 || cr + 1 >= this.buf.length) {
      if (this.buf.length - this.pos > this.maxLine && this.pendingBytes === 0) {
        this.fail(this.pos, `CRLF within ${this.maxLine} bytes`);
      }
      return -1;
    }
    if (this.buf[cr + 1] !== LF) this.fail(cr + 1, "LF after CR");
    return cr;
  }

  /** Parses one element at `pos`: a complete value, OPENED (aggregate header), or NEED_MORE. */
  private parseElement(): RespValue | typeof OPENED | NeedMore {
    const buf = this.buf;
    const start = this.pos;
    this.needed = 0;
    if (start >= buf.length) return NEED_MORE;
    const typeByte = buf[start]!;
    const type: RespType | undefined = RESP_TYPE_BYTES[typeByte as keyof typeof RESP_TYPE_BYTES];
    if (type === undefined) this.fail(start, "a RESP type byte (one of +-:$*_,#(!=%~>|)");
    const cr = this.lineEnd(start + 1);
    if (cr < 0) return NEED_MORE;
    const next = cr + 2;

    switch (type) {
      case "simple":
        this.pos = next;
        return simpleString(buf, start + 1, cr);
      case "error":
        this.pos = next;
        return new RespErrorReply(buf.toString("utf8", start + 1, cr));
      case "integer":
        this.pos = next;
        return this.parseInteger(start + 1, cr);
      case "null":
        if (cr !== start + 1) this.fail(start + 1, "CRLF right after _");
        this.pos = next;
        return null;
      case "boolean": {
        const flag = cr === start + 2 ? buf[start + 1] : undefined;
        if (flag !== 0x74 && flag !== 0x66) this.fail(start + 1, "t or f after #");
        this.pos = next;
        return flag === 0x74;
      }
      case "double":
        this.pos = next;
        return new RespDouble(this.parseDouble(start + 1, cr));
      case "bignum": {
        const text = buf.toString("latin1", start + 1, cr);
        if (!BIGNUM_TEXT.test(text)) this.fail(start + 1, "a big number");
        this.pos = next;
        return BigInt(text);
      }
      case "bulk":
      case "blobError":
      case "verbatim": {
        const length = this.parseLength(start + 1, cr, type === "bulk", this.maxBulk);
        if (length < 0) {
          this.pos = next;
          return null;
        }
        const end = next + length;
        if (end + 2 > buf.length) {
          this.needed = end + 2 - start;
          return NEED_MORE;
        }
        if (buf[end] !== CR || buf[end + 1] !== LF) this.fail(end, `CRLF after a ${length}-byte ${type}`);
        this.pos = end + 2;
        const body = buf.subarray(next, end);
        if (type === "bulk") return body;
        if (type === "blobError") return new RespErrorReply(body.toString("utf8"));
        if (length < 4 || body[3] !== 0x3a) this.fail(next, "a 3-byte format and ':' in a verbatim string");
        return new RespVerbatim(body.toString("latin1", 0, 3), body.subarray(4));
      }
      case "array":
      case "set":
      case "push":
      case "map":
      case "attribute": {
        const count = this.parseLength(start + 1, cr, type === "array", this.maxAggregate);
        this.pos = next;
        if (count < 0) return null;
        const pairsOf = type === "map" || type === "attribute" ? 2 : 1;
        this.stack.push({ kind: type, items: [], remaining: count * pairsOf });
        return OPENED;
      }
    }
  }

  /** A length header: digits, or -1 where RESP2 allows a null. */
  private parseLength(from: number, to: number, nullable: boolean, max: number): number {
    if (this.buf[from] === 0x3f) this.fail(from, "a length (streamed RESP3 aggregates are not supported)");
    const value = this.parseInteger(from, to);
    if (value === -1 && nullable) return -1;
    if (typeof value !== "number" || value < 0 || value > max) {
      this.fail(from, `a length between 0 and ${max}${nullable ? " (or -1)" : ""}`);
    }
    return value;
  }

  private parseInteger(from: number, to: number): number | bigint {
    const buf = this.buf;
    let i = from;
    const negative = buf[i] === 0x2d;
    if (negative || buf[i] === 0x2b) i++;
    if (i >= to) this.fail(from, "an integer");
    if (to - i > 15) {
      for (let j = i; j < to; j++) {
        const digit = buf[j]! - 0x30;
        if (digit < 0 || digit > 9) this.fail(j, "a decimal digit");
      }
      const big = BigInt(buf.toString("latin1", from, to));
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big;
    }
    let value = 0;
    for (; i < to; i++) {
      const digit = buf[i]! - 0x30;
      if (digit < 0 || digit > 9) this.fail(i, "a decimal digit");
      value = value * 10 + digit;
    }
    return negative ? -value : value;
  }

  private parseDouble(from: number, to: number): number {
    const text = this.buf.toString("latin1", from, to);
    const lower = text.toLowerCase();
    if (lower === "inf" || lower === "+inf") return Number.POSITIVE_INFINITY;
    if (lower === "-inf") return Number.NEGATIVE_INFINITY;
    if (lower === "nan" || lower === "-nan") return Number.NaN;
    if (!DOUBLE_TEXT.test(text)) this.fail(from, "a double");
    return Number(text);
  }
}

function pairs(items: RespValue[]): Array<[RespValue, RespValue]> {
  const out: Array<[RespValue, RespValue]> = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
  return out;
}

function buildAggregate(open: OpenAggregate): RespValue {
  switch (open.kind) {
    case "set":
      return new RespSet(open.items);
    case "push":
      return new RespPush(open.items);
    case "map":
    case "attribute":
      return new RespMap(pairs(open.items));
    default:
      return open.items;
  }
}

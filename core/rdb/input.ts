import { Crc64 } from "./crc64.ts";
import { RdbFormatError } from "./errors.ts";

/**
 * The parser's input: one growable Buffer with a cursor. Bytes before the cursor are dropped when
 * room is needed, except from `mark` on (the start of a value whose raw bytes are being captured).
 * Every dropped byte has gone through the running CRC-64 first, so the checksum never needs the
 * whole file.
 *
 * The decoding code runs as a generator that yields when it needs more bytes (see `ensure`), so it
 * is resumable at any byte boundary without hand-written states.
 */
export type Need<T> = Generator<void, T, void>;

export class ByteInput {
  /**
   * @param reserveBytes capacity to jump to, in one step, once a held value passes 1 MiB: the most
   *   a raw capture can hold (the big-key threshold plus one element). Growing there by doubling
   *   and then by quarters left a trail of touched, dead buffers (~74 MiB of them for one 16 MiB
   *   capture) that V8 frees only at its next full GC, so they all counted in the peak RSS; a jump
   *   leaves at most one, and the part of it never written is never resident.
   */
  constructor(private readonly reserveBytes = 0) {}

  buf: Buffer = Buffer.allocUnsafe(0);
  pos = 0;
  end = 0;
  /** Absolute offset of buf[0] in the RDB. */
  base = 0;
  /** Absolute offset from which bytes are kept for a raw capture, or -1. */
  mark = -1;
  ended = false;
  /** The key being parsed, for error messages. */
  key: Buffer | undefined;
  private readonly crc = new Crc64();
  /** Absolute offset up to which bytes went through the CRC. */
  private crcAt = 0;

  get offset(): number {
    return this.base + this.pos;
  }

  get available(): number {
    return this.end - this.pos;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) this.makeRoom(chunk.length);
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  private makeRoom(incoming: number): void {
    const keepAbs = this.mark >= 0 ? Math.min(this.mark, this.offset) : this.offset;
    // Every byte goes through the running CRC once, on its way out: in long spans (WebAssembly).
    this.checksumTo(keepAbs);
    const keepIdx = keepAbs - this.base;
    const kept = this.end - keepIdx;
    const needed = kept + incoming;
    if (needed > this.buf.length || this.buf.length > Math.max(needed * 4, 1 << 20)) {
      // Grow (see growTo), but also shrink after a big value so memory follows the live bytes.
      const next = Buffer.allocUnsafe(growTo(needed, this.reserveBytes));
      this.buf.copy(next, 0, keepIdx, this.end);
      this.buf = next;
    } else {
      this.buf.copyWithin(0, keepIdx, this.end);
    }
    this.base = keepAbs;
    this.pos -= keepIdx;
    this.end = kept;
  }

  /** Feeds bytes [crcAt, abs) to the running CRC. */
  checksumTo(abs: number): void {
    if (abs > this.crcAt) {
      this.crc.update(this.buf, this.crcAt - this.base, abs - this.base);
      this.crcAt = abs;
    }
  }

  checksum(): bigint {
    return this.crc.digest();
  }

  error(what: string, at = this.offset): RdbFormatError {
    return new RdbFormatError(what, at, this.key);
  }

  /** Waits until `n` bytes are available after the cursor. */
  *ensure(n: number): Need<void> {
    while (this.end - this.pos < n) {
      if (this.ended)
        throw this.error(
          `input ends after ${this.end - this.pos} of the ${n} bytes needed here: the RDB is truncated`,
        );
      yield;
    }
  }

  u8(): number {
    return this.buf[this.pos++]!;
  }

  /** A copy of the next `n` bytes (the internal buffer is reused, so callers never get a view of it). */
  take(n: number): Buffer {
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  /** A view of the next `n` bytes, valid only until the next push(). */
  view(n: number): Buffer {
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Copy of [from, to) absolute offsets (used for raw captures while the mark holds them). */
  copyRange(from: number, to: number): Buffer {
    return Buffer.from(this.buf.subarray(from - this.base, to - this.base));
  }

  // ---- RDB length encoding (rdbLoadLen) -----------------------------------------------------

  /** Result of the last successful peekLen. */
  lenValue = 0;
  lenSize = 0;
  /** True when the length byte is 11xxxxxx: a special string encoding, `lenValue` is the kind. */
  lenEncoded = false;

  /**
   * Decodes the length at the cursor without consuming it. 00xxxxxx: 6 bits; 01xxxxxx+1 byte:
   * 14 bits big-endian; 0x80: 32-bit BE; 0x81: 64-bit BE; 11xxxxxx: encoded string kind.
   * Returns false when not all of its bytes have arrived.
   */
  peekLen(at = this.pos): boolean {
    if (at >= this.end) return false;
    const b = this.buf[at]!;
    const kind = b >> 6;
    this.lenEncoded = false;
    if (kind === 0) {
      this.lenValue = b & 0x3f;
      this.lenSize = 1;
    } else if (kind === 1) {
      if (at + 2 > this.end) return false;
      this.lenValue = ((b & 0x3f) << 8) | this.buf[at + 1]!;
      this.lenSize = 2;
    } else if (b === 0x80) {
      if (at + 5 > this.end) return false;
      this.lenValue = this.buf.readUInt32BE(at + 1);
      this.lenSize = 5;
    } else if (b === 0x81) {
      if (at + 9 > this.end) return false;
      // Lossy above 2^53, but every such length is rejected by a cap or runs out of input.
      this.lenValue = Number(this.buf.readBigUInt64BE(at + 1));
      this.lenSize = 9;
    } else if (kind === 3) {
      this.lenEncoded = true;
      this.lenValue = b & 0x3f;
      this.lenSize = 1;
    } else {
      throw this.error(`invalid length byte 0x${b.toString(16)}`, this.base + at);
    }
    return true;
  }

  *readLen(): Need<number> {
    while (!this.peekLen()) yield* this.ensure(this.available + 1);
    if (this.lenEncoded) throw this.error(`expected a length, found string encoding ${this.lenValue}`);
    this.pos += this.lenSize;
    return this.lenValue;
  }

  /** A length read exactly (stream ids and counters use the full 64 bits). */
  *readLenBig(): Need<bigint> {
    yield* this.ensure(1);
    if (this.buf[this.pos] === 0x81) {
      yield* this.ensure(9);
      const v = this.buf.readBigUInt64BE(this.pos + 1);
      this.pos += 9;
      return v;
    }
    return BigInt(yield* this.readLen());
  }

  *readU64LE(): Need<bigint> {
    yield* this.ensure(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** rdbLoadMillisecondTime: 8 bytes little-endian, signed. */
  *readMillis(): Need<number> {
    yield* this.ensure(8);
    const v = Number(this.buf.readBigInt64LE(this.pos));
    this.pos += 8;
    return v;
  }
}

const SMALL_CAPACITY = 1024 * 1024;

/**
 * Capacity for `needed` bytes: doubling up to 1 MiB; then `reserve` in one step when it is enough;
 * past that +25 % (at least 1 MiB more), so a value bigger than any reserve (a user's threshold, one
 * huge element) does not sit in a buffer twice its size, plus the old one while copying.
 */
function growTo(needed: number, reserve: number): number {
  if (needed <= SMALL_CAPACITY) return Math.max(needed * 2, 64 * 1024);
  if (needed <= reserve) return reserve;
  return needed + Math.max(needed >> 2, SMALL_CAPACITY);
}

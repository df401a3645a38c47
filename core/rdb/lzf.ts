import { RdbFormatError } from "./errors.ts";

/**
 * LZF decompression (liblzf, as Redis uses it for strings > 20 bytes when rdbcompression is on).
 * Format: a control byte c; c < 32 → a literal run of c+1 bytes; otherwise a back reference of
 * length (c >> 5) + 2 (7 means "add the next byte") at distance ((c & 31) << 8 | next) + 1.
 * Back references reach at most 8 KiB back, which is what makes windowed decompression possible.
 */

/** A back reference copies at most 7+255+2 bytes from 3 input bytes: the largest expansion ratio. */
export const LZF_MAX_RATIO = 88;

export const LZF_WINDOW = 8192;

/** Decompresses `input` into exactly `outLength` bytes; throws RdbFormatError if it does not fit. */
export function lzfDecompress(input: Uint8Array, outLength: number, offset = 0): Buffer {
  const out = Buffer.allocUnsafe(outLength);
  const written = lzfDecompressInto(input, out, offset);
  if (written !== outLength)
    throw new RdbFormatError(`LZF data expands to ${written} bytes, the header said ${outLength}`, offset);
  return out;
}

function lzfDecompressInto(input: Uint8Array, out: Uint8Array, offset: number): number {
  let ip = 0;
  let op = 0;
  const inEnd = input.length;
  const outEnd = out.length;
  while (ip < inEnd) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > outEnd || ip + run > inEnd)
        throw new RdbFormatError("LZF literal run overflows the declared length", offset);
      for (let k = 0; k < run; k++) out[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= inEnd) throw new RdbFormatError("LZF back reference cut short", offset);
        len += input[ip++]!;
      }
      if (ip >= inEnd) throw new RdbFormatError("LZF back reference cut short", offset);
      const ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
      len += 2;
      if (ref < 0) throw new RdbFormatError("LZF back reference points before the start", offset);
      if (op + len > outEnd)
        throw new RdbFormatError("LZF back reference overflows the declared length", offset);
      // Byte by byte: source and destination may overlap (run-length style references).
      for (let k = 0; k < len; k++) out[op++] = out[ref + k]!;
    }
  }
  return op;
}

/**
 * Windowed LZF decompression for a big string: yields consecutive slices of about `sliceBytes`
 * each, and memory stays at the compressed input + one slice + the 8 KiB window. A generator, so
 * the parser can pause between slices (a few KB of input may expand to hundreds of MB).
 */
export function* lzfSlices(
  input: Uint8Array,
  outLength: number,
  sliceBytes: number,
  offset = 0,
): Generator<Buffer, void, void> {
  // One control step writes at most 264 bytes: the headroom guarantees it fits after a flush.
  const HEADROOM = 300;
  const size = Math.max(sliceBytes, 1) + LZF_WINDOW + HEADROOM;
  const buf = Buffer.allocUnsafe(size);
  let op = 0;
  let windowStart = 0;
  let total = 0;
  let ip = 0;
  /** The slice to hand out now (or null), then room made for the next control step. */
  const flush = (final: boolean): Buffer | null => {
    let slice: Buffer | null = null;
    if (op - windowStart >= sliceBytes || (final && op > windowStart)) {
      slice = Buffer.from(buf.subarray(windowStart, op));
      total += op - windowStart;
      windowStart = op;
    }
    if (!final && op > size - HEADROOM) {
      // Keep the unflushed bytes and the last 8 KiB: no back reference reaches further.
      const keepFrom = Math.max(0, Math.min(windowStart, op - LZF_WINDOW));
      buf.copyWithin(0, keepFrom, op);
      op -= keepFrom;
      windowStart -= keepFrom;
    }
    return slice;
  };
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > input.length) throw new RdbFormatError("LZF literal run cut short", offset);
      for (let k = 0; k < run; k++) buf[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      if (len === 7) len += input[ip++] ?? 0;
      if (ip >= input.length) throw new RdbFormatError("LZF back reference cut short", offset);
      const dist = ((ctrl & 0x1f) << 8) + input[ip++]! + 1;
      len += 2;
      if (dist > op) throw new RdbFormatError("LZF back reference points before the start", offset);
      for (let k = 0; k < len; k++) {
        buf[op] = buf[op - dist]!;
        op++;
      }
    }
    const slice = flush(false);
    if (slice) yield slice;
    if (total + (op - windowStart) > outLength)
      throw new RdbFormatError("LZF data expands beyond the declared length", offset);
  }
  const last = flush(true);
  if (last) yield last;
  if (total !== outLength)
    throw new RdbFormatError(`LZF data expands to ${total} bytes, the header said ${outLength}`, offset);
}

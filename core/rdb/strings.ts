import { MAX_STRING_BYTES } from "./constants.ts";
import type { ByteInput, Need } from "./input.ts";
import { LZF_MAX_RATIO, lzfDecompress } from "./lzf.ts";

/**
 * RDB strings (rdbGenericLoadStringObject): a plain length + bytes, or 11xxxxxx followed by an
 * int8/int16/int32 (the string is its decimal text) or LZF (compressed length, plain length, data).
 */

const INT_ENCODING_BYTES = [1, 2, 4] as const;
const ENC_LZF = 3;

/** Total bytes the last tryString that returned null was waiting for (from the cursor). */
let wanted = 0;

/**
 * The string at the cursor if all of its bytes have arrived, else null with nothing consumed.
 * The synchronous fast path of readString: the hot loops call it and fall back to the generator
 * only when the input runs dry.
 */
export function tryString(inp: ByteInput): Buffer | null {
  if (!inp.peekLen()) {
    wanted = inp.available + 1;
    return null;
  }
  const hdr = inp.lenSize;
  if (!inp.lenEncoded) {
    const len = inp.lenValue;
    if (len > MAX_STRING_BYTES)
      throw inp.error(`string length ${len} exceeds the ${MAX_STRING_BYTES}-byte cap`);
    if (inp.available < hdr + len) {
      wanted = hdr + len;
      return null;
    }
    inp.pos += hdr;
    return inp.take(len);
  }
  const kind = inp.lenValue;
  if (kind === ENC_LZF) return tryLzf(inp);
  const width = INT_ENCODING_BYTES[kind as 0 | 1 | 2];
  if (width === undefined) throw inp.error(`unknown string encoding ${kind}`);
  if (inp.available < 1 + width) {
    wanted = 1 + width;
    return null;
  }
  const at = inp.pos + 1;
  const v =
    width === 1 ? inp.buf.readInt8(at) : width === 2 ? inp.buf.readInt16LE(at) : inp.buf.readInt32LE(at);
  inp.pos += 1 + width;
  return Buffer.from(String(v), "latin1");
}

export interface LzfHeader {
  /** Bytes of the 0xC3 byte and the two lengths. */
  headerBytes: number;
  compressedLength: number;
  length: number;
}

/** Reads the LZF header at the cursor (not consuming it), or null when it has not fully arrived. */
export function peekLzfHeader(inp: ByteInput): LzfHeader | null {
  let at = inp.pos + 1;
  if (!inp.peekLen(at)) return null;
  if (inp.lenEncoded) throw inp.error("LZF string has an encoded compressed length");
  const compressedLength = inp.lenValue;
  at += inp.lenSize;
  if (!inp.peekLen(at)) return null;
  if (inp.lenEncoded) throw inp.error("LZF string has an encoded length");
  const length = inp.lenValue;
  at += inp.lenSize;
  // Corrupt lengths must not turn into huge allocations: LZF cannot expand more than 88×.
  if (compressedLength > MAX_STRING_BYTES || length > MAX_STRING_BYTES)
    throw inp.error(`LZF string of ${length} bytes exceeds the ${MAX_STRING_BYTES}-byte cap`);
  if (length > compressedLength * LZF_MAX_RATIO || compressedLength === 0)
    throw inp.error(`LZF string claims ${length} bytes from ${compressedLength} compressed bytes`);
  return { headerBytes: at - inp.pos, compressedLength, length };
}

function tryLzf(inp: ByteInput): Buffer | null {
  const h = peekLzfHeader(inp);
  if (h === null) {
    wanted = inp.available + 1;
    return null;
  }
  if (inp.available < h.headerBytes + h.compressedLength) {
    wanted = h.headerBytes + h.compressedLength;
    return null;
  }
  const at = inp.offset;
  inp.pos += h.headerBytes;
  return lzfDecompress(inp.view(h.compressedLength), h.length, at);
}

export function* readString(inp: ByteInput): Need<Buffer> {
  for (;;) {
    const s = tryString(inp);
    if (s !== null) return s;
    yield* inp.ensure(wanted);
  }
}

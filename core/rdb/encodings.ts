import { RdbFormatError } from "./errors.ts";

/**
 * Decoders for the compact encodings Redis embeds as one RDB string: listpack, ziplist, intset,
 * zipmap. Each works on a complete Buffer (one node; bounded by the server's *-max-listpack-*
 * settings) and checks every length against the blob, so a corrupt blob fails with RdbFormatError
 * instead of reading outside it. Integers come back as numbers (bigint beyond 2^53); callers that
 * need the string form use packedToBuffer, which gives the decimal text Redis would reply with.
 */

export type PackedValue = Buffer | number | bigint;

/** `offset` in errors is the RDB offset of the blob, so a corrupt node can be found in the file. */
function fail(what: string, offset: number, key?: Buffer): never {
  throw new RdbFormatError(what, offset, key);
}

function int64(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function packedToBuffer(v: PackedValue): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v), "latin1");
}

export function packedToNumber(v: PackedValue, offset: number, key?: Buffer): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return fail(`expected an integer in a packed encoding, found a string of ${v.length} bytes`, offset, key);
}

export function packedToBigInt(v: PackedValue, offset: number, key?: Buffer): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  return fail(`expected an integer in a packed encoding, found a string of ${v.length} bytes`, offset, key);
}

/** Listpack (listpack.c): 4-byte total size, 2-byte count, entries each followed by a back-length, 0xFF. */
export function decodeListpack(blob: Buffer, offset: number, key?: Buffer): PackedValue[] {
  if (blob.length < 7) fail(`listpack of ${blob.length} bytes is shorter than its header`, offset, key);
  const total = blob.readUInt32LE(0);
  if (total !== blob.length)
    fail(`listpack header says ${total} bytes, the string has ${blob.length}`, offset, key);
  const out: PackedValue[] = [];
  let p = 6;
  const end = blob.length;
  for (;;) {
    if (p >= end) fail("listpack has no end marker", offset, key);
    const b = blob[p]!;
    if (b === 0xff) break;
    let size: number;
    if (b < 0x80) {
      out.push(b);
      size = 1;
    } else if (b < 0xc0) {
      const len = b & 0x3f;
      size = 1 + len;
      if (p + size > end) fail("listpack string overruns the listpack", offset, key);
      out.push(blob.subarray(p + 1, p + size));
    } else if (b < 0xe0) {
      if (p + 2 > end) fail("listpack int13 overruns the listpack", offset, key);
      const v = ((b & 0x1f) << 8) | blob[p + 1]!;
      out.push(v >= 4096 ? v - 8192 : v);
      size = 2;
    } else if (b < 0xf0) {
      if (p + 2 > end) fail("listpack str12 header overruns the listpack", offset, key);
      const len = ((b & 0x0f) << 8) | blob[p + 1]!;
      size = 2 + len;
      if (p + size > end) fail("listpack string overruns the listpack", offset, key);
      out.push(blob.subarray(p + 2, p + size));
    } else {
      switch (b) {
        case 0xf0: {
          if (p + 5 > end) fail("listpack str32 header overruns the listpack", offset, key);
          const len = blob.readUInt32LE(p + 1);
          size = 5 + len;
          if (p + size > end) fail("listpack string overruns the listpack", offset, key);
          out.push(blob.subarray(p + 5, p + size));
          break;
        }
        case 0xf1:
          size = 3;
          if (p + size > end) fail("listpack int16 overruns the listpack", offset, key);
          out.push(blob.readInt16LE(p + 1));
          break;
        case 0xf2:
          size = 4;
          if (p + size > end) fail("listpack int24 overruns the listpack", offset, key);
          out.push(blob.readIntLE(p + 1, 3));
          break;
        case 0xf3:
          size = 5;
          if (p + size > end) fail("listpack int32 overruns the listpack", offset, key);
          out.push(blob.readInt32LE(p + 1));
          break;
        case 0xf4:
          size = 9;
          if (p + size > end) fail("listpack int64 overruns the listpack", offset, key);
          out.push(int64(blob.readBigInt64LE(p + 1)));
          break;
        default:
          return fail(`unknown listpack entry encoding 0x${b.toString(16)}`, offset, key);
      }
    }
    // The back-length stores `size` in 7-bit groups: 1 byte below 128, 2 below 16384, … up to 5.
    const back = size < 128 ? 1 : size < 16384 ? 2 : size < 2097152 ? 3 : size < 268435456 ? 4 : 5;
    p += size + back;
  }
  if (p !== end - 1) fail("listpack has bytes after its end marker", offset, key);
  const count = blob.readUInt16LE(4);
  // 65535 means "too many to count in the header".
  if (count !== 65535 && count !== out.length)
    fail(`listpack header says ${count} entries, found ${out.length}`, offset, key);
  return out;
}

/** Ziplist (ziplist.c, RDB ≤ 9 and quicklist v1 nodes): 10-byte header, entries with prevlen, 0xFF. */
export function decodeZiplist(blob: Buffer, offset: number, key?: Buffer): PackedValue[] {
  if (blob.length < 11) fail(`ziplist of ${blob.length} bytes is shorter than its header`, offset, key);
  const total = blob.readUInt32LE(0);
  if (total !== blob.length)
    fail(`ziplist header says ${total} bytes, the string has ${blob.length}`, offset, key);
  const out: PackedValue[] = [];
  let p = 10;
  const end = blob.length;
  for (;;) {
    if (p >= end) fail("ziplist has no end marker", offset, key);
    if (blob[p] === 0xff) break;
    // prevlen: 1 byte, or 0xFE followed by a 4-byte length.
    p += blob[p] === 0xfe ? 5 : 1;
    if (p >= end) fail("ziplist entry header overruns the ziplist", offset, key);
    const e = blob[p]!;
    const top = e >> 6;
    let len: number;
    if (top === 0) {
      len = e & 0x3f;
      p += 1;
    } else if (top === 1) {
      if (p + 2 > end) fail("ziplist entry header overruns the ziplist", offset, key);
      len = ((e & 0x3f) << 8) | blob[p + 1]!;
      p += 2;
    } else if (top === 2) {
      if (p + 5 > end) fail("ziplist entry header overruns the ziplist", offset, key);
      len = blob.readUInt32BE(p + 1);
      p += 5;
    } else {
      p += 1;
      let n: number;
      switch (e) {
        case 0xc0:
          n = 2;
          if (p + n > end) fail("ziplist int overruns the ziplist", offset, key);
          out.push(blob.readInt16LE(p));
          break;
        case 0xd0:
          n = 4;
          if (p + n > end) fail("ziplist int overruns the ziplist", offset, key);
          out.push(blob.readInt32LE(p));
          break;
        case 0xe0:
          n = 8;
          if (p + n > end) fail("ziplist int overruns the ziplist", offset, key);
          out.push(int64(blob.readBigInt64LE(p)));
          break;
        case 0xf0:
          n = 3;
          if (p + n > end) fail("ziplist int overruns the ziplist", offset, key);
          out.push(blob.readIntLE(p, 3));
          break;
        case 0xfe:
          n = 1;
          if (p + n > end) fail("ziplist int overruns the ziplist", offset, key);
          out.push(blob.readInt8(p));
          break;
        default:
          // 1111xxxx: an immediate 0..12 stored as xxxx - 1 (xxxx in 0001..1101).
          if (e >= 0xf1 && e <= 0xfd) {
            n = 0;
            out.push((e & 0x0f) - 1);
          } else {
            return fail(`unknown ziplist entry encoding 0x${e.toString(16)}`, offset, key);
          }
      }
      p += n;
      continue;
    }
    if (p + len > end) fail("ziplist string overruns the ziplist", offset, key);
    out.push(blob.subarray(p, p + len));
    p += len;
  }
  if (p !== end - 1) fail("ziplist has bytes after its end marker", offset, key);
  const count = blob.readUInt16LE(8);
  // 65535 means "count did not fit, walk the list".
  if (count !== 65535 && count !== out.length)
    fail(`ziplist header says ${count} entries, found ${out.length}`, offset, key);
  return out;
}

/** Intset (intset.c): 4-byte width (2/4/8), 4-byte count, little-endian integers. */
export function decodeIntset(blob: Buffer, offset: number, key?: Buffer): PackedValue[] {
  if (blob.length < 8) fail(`intset of ${blob.length} bytes is shorter than its header`, offset, key);
  const width = blob.readUInt32LE(0);
  const count = blob.readUInt32LE(4);
  if (width !== 2 && width !== 4 && width !== 8) fail(`intset has an invalid width ${width}`, offset, key);
  if (8 + width * count !== blob.length)
    fail(`intset of ${count} × ${width} bytes does not match its ${blob.length}-byte string`, offset, key);
  const out: PackedValue[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    out[i] =
      width === 2
        ? blob.readInt16LE(at)
        : width === 4
          ? blob.readInt32LE(at)
          : int64(blob.readBigInt64LE(at));
  }
  return out;
}

/** Zipmap (zipmap.c, RDB ≤ 3 hashes): count byte, then len key len free value[free], 0xFF. */
export function decodeZipmap(blob: Buffer, offset: number, key?: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 1;
  const end = blob.length;
  const readLen = (): number => {
    if (p >= end) fail("zipmap length overruns the zipmap", offset, key);
    const b = blob[p]!;
    if (b < 254) {
      p += 1;
      return b;
    }
    if (b === 254) {
      if (p + 5 > end) fail("zipmap length overruns the zipmap", offset, key);
      const len = blob.readUInt32LE(p + 1);
      p += 5;
      return len;
    }
    return fail("zipmap entry starts with an end marker", offset, key);
  };
  for (;;) {
    if (p >= end) fail("zipmap has no end marker", offset, key);
    if (blob[p] === 0xff) break;
    const keyLen = readLen();
    if (p + keyLen > end) fail("zipmap field overruns the zipmap", offset, key);
    out.push(blob.subarray(p, p + keyLen));
    p += keyLen;
    const valueLen = readLen();
    if (p >= end) fail("zipmap free byte overruns the zipmap", offset, key);
    const free = blob[p]!;
    p += 1;
    if (p + valueLen + free > end) fail("zipmap value overruns the zipmap", offset, key);
    out.push(blob.subarray(p, p + valueLen));
    p += valueLen + free;
  }
  return out;
}

/**
 * Scores in ziplists/listpacks are stored as text ("2.5", "inf", "-inf") or as integers; Redis
 * parses them with strtod, which accepts the inf spellings that Number() does not.
 */
export function parseScore(v: PackedValue, offset: number, key?: Buffer): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  return parseScoreText(v.toString("latin1"), offset, key);
}

export function parseScoreText(text: string, offset: number, key?: Buffer): number {
  const t = text.trim().toLowerCase();
  if (t === "inf" || t === "+inf" || t === "infinity" || t === "+infinity") return Number.POSITIVE_INFINITY;
  if (t === "-inf" || t === "-infinity") return Number.NEGATIVE_INFINITY;
  const n = Number(t);
  if (t === "" || Number.isNaN(n))
    fail(`invalid zset score ${JSON.stringify(text.slice(0, 40))}`, offset, key);
  return n;
}

/**
 * CRC-64 as Redis computes it (crc64.c): Jones polynomial 0xad93d23594c935a9, reflected input and
 * output, initial value 0, no final xor. check("123456789") = 0xe9c6d914c4b8d9ca.
 *
 * JS has no fast 64-bit integers, so the CRC is kept as two uint32 halves and the table is
 * "slicing-by-8": eight 256-entry tables let the loop consume 8 bytes per step (hundreds of MB/s),
 * which matters because every byte of a snapshot goes through it. Long spans take the same tables
 * in WebAssembly, with real 64-bit integers (crc64Wasm.ts).
 */
import { createWasmCrc, WASM_DATA_AT, WASM_DATA_BYTES } from "./crc64Wasm.ts";

/** The Jones polynomial bit-reversed, for the LSB-first (reflected) algorithm. */
const POLY_REFLECTED_HI = 0x95ac9329;
const POLY_REFLECTED_LO = 0xac4bc9b5;

// Int32Array, not Uint32Array: values ≥ 2^31 read from a Uint32Array are heap doubles in V8 and
// make the loop ~5× slower; XOR does not care about the sign.
const TABLE_LO: Int32Array[] = [];
const TABLE_HI: Int32Array[] = [];
/** The eight slicing tables of one half (filled by buildTables). */
type EightTables = [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

function buildTables(): void {
  const lo0 = new Int32Array(256);
  const hi0 = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const lsb = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (lsb) {
        lo = (lo ^ POLY_REFLECTED_LO) >>> 0;
        hi = (hi ^ POLY_REFLECTED_HI) >>> 0;
      }
    }
    lo0[i] = lo;
    hi0[i] = hi;
  }
  TABLE_LO.push(lo0);
  TABLE_HI.push(hi0);
  for (let k = 1; k < 8; k++) {
    const prevLo = TABLE_LO[k - 1]!;
    const prevHi = TABLE_HI[k - 1]!;
    const lo = new Int32Array(256);
    const hi = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      const pl = prevLo[i]!;
      const ph = prevHi[i]!;
      const idx = pl & 0xff;
      lo[i] = ((pl >>> 8) | (ph << 24)) ^ lo0[idx]!;
      hi[i] = (ph >>> 8) ^ hi0[idx]!;
    }
    TABLE_LO.push(lo);
    TABLE_HI.push(hi);
  }
}
buildTables();

/**
 * Spans at least this long go through the WebAssembly loop (crc64Wasm.ts, ~3× the JS loop's
 * speed); shorter ones stay in JS, where the call and the copy would cost more than they save.
 */
const WASM_MIN_BYTES = 96;
const WASM = process.env["FERRY_CRC_WASM"] === "0" ? null : createWasmCrc(TABLE_LO, TABLE_HI);

/** Incremental CRC-64 state; `update` may be called with any split of the input. */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  constructor(seed = 0n) {
    // One per DUMP payload on the snapshot path: no BigInt arithmetic for the usual zero seed.
    if (seed === 0n) return;
    this.lo = Number(seed & 0xffffffffn) | 0;
    this.hi = Number((seed >> 32n) & 0xffffffffn) | 0;
  }

  update(buf: Uint8Array, from = 0, to = buf.length): this {
    if (to - from >= WASM_MIN_BYTES && WASM !== null) return this.updateWasm(buf, from, to);
    let lo = this.lo;
    let hi = this.hi;
    let i = from;
    const [t0l, t1l, t2l, t3l, t4l, t5l, t6l, t7l] = TABLE_LO as EightTables;
    const [t0h, t1h, t2h, t3h, t4h, t5h, t6h, t7h] = TABLE_HI as EightTables;
    const end8 = to - ((to - i) & 7);
    while (i < end8) {
      const a = lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
      const b = hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
      const b0 = a & 0xff;
      const b1 = (a >>> 8) & 0xff;
      const b2 = (a >>> 16) & 0xff;
      const b3 = a >>> 24;
      const b4 = b & 0xff;
      const b5 = (b >>> 8) & 0xff;
      const b6 = (b >>> 16) & 0xff;
      const b7 = b >>> 24;
      lo = t7l[b0]! ^ t6l[b1]! ^ t5l[b2]! ^ t4l[b3]! ^ t3l[b4]! ^ t2l[b5]! ^ t1l[b6]! ^ t0l[b7]!;
      hi = t7h[b0]! ^ t6h[b1]! ^ t5h[b2]! ^ t4h[b3]! ^ t3h[b4]! ^ t2h[b5]! ^ t1h[b6]! ^ t0h[b7]!;
      i += 8;
    }
    while (i < to) {
      const idx = (lo ^ buf[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ t0l[idx]!;
      hi = (hi >>> 8) ^ t0h[idx]!;
      i++;
    }
    this.lo = lo | 0;
    this.hi = hi | 0;
    return this;
  }

  /** update() through the WebAssembly loop: the input is copied into its memory a slice at a time. */
  private updateWasm(buf: Uint8Array, from: number, to: number): this {
    const wasm = WASM!;
    wasm.words[0] = this.lo;
    wasm.words[1] = this.hi;
    for (let at = from; at < to; at += WASM_DATA_BYTES) {
      const end = Math.min(to, at + WASM_DATA_BYTES);
      wasm.bytes.set(buf.subarray(at, end), WASM_DATA_AT);
      wasm.update(WASM_DATA_AT, end - at);
    }
    this.lo = wasm.words[0]!;
    this.hi = wasm.words[1]!;
    return this;
  }

  digest(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** Writes the CRC as 8 bytes little-endian at `at` (as a DUMP payload footer; no BigInt). */
  writeLE(out: Buffer, at: number): void {
    out.writeInt32LE(this.lo, at);
    out.writeInt32LE(this.hi, at + 4);
  }
}

/** CRC-64 (Redis/Jones) of `buf`, continuing from `seed` (the CRC of the bytes before it). */
export function crc64(buf: Uint8Array, seed = 0n): bigint {
  return new Crc64(seed).update(buf).digest();
}

/**
 * The CRC-64 inner loop in WebAssembly: the same slicing-by-8 tables as crc64.ts, but with native
 * 64-bit integers, so one step is a 64-bit load, one xor and eight table loads instead of two
 * 32-bit halves assembled byte by byte. A snapshot sends every value byte through the CRC (each
 * DUMP payload carries one), and in JS that loop was ~20 % of ferry's snapshot CPU.
 *
 * The module is tiny and assembled here, byte by byte, from the instruction list below (no
 * toolchain, nothing downloaded): one exported function `update(ptr, len)` that advances the CRC
 * state stored at address 0 over memory[ptr, ptr + len). crc64.ts copies input into the data area in
 * slices and keeps the state in its two 32-bit halves between calls.
 */

/** Layout of the module's memory. */
const STATE_AT = 0; // i64 CRC state (little-endian: lo word, then hi word)
const TABLES_AT = 64; // 8 tables × 256 × i64
const TABLE_BYTES = 256 * 8;
export const WASM_DATA_AT = 65_536;
export const WASM_DATA_BYTES = 1024 * 1024;
const PAGES = (WASM_DATA_AT + WASM_DATA_BYTES) / 65_536;

// Opcodes (WebAssembly core spec, binary format).
const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Load8U: 0x2d,
  i64Load: 0x29,
  i64Store: 0x37,
  i32Const: 0x41,
  i64Const: 0x42,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32And: 0x71,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i64Xor: 0x85,
  i64ShrU: 0x88,
  i32WrapI64: 0xa7,
} as const;
const VOID = 0x40;
const I32 = 0x7f;
const I64 = 0x7e;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** memarg: alignment exponent, then offset. */
const mem = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];

// Locals: 0 ptr (param), 1 len (param), 2 end, 3 end8, 4 crc, 5 v.
const [PTR, LEN, END, END8, CRC, V] = [0, 1, 2, 3, 4, 5];

/** `Table[k][byte j of v]`, the byte index scaled to an i64 slot, loaded from table `k`. */
function lookup(byte: number, table: number): number[] {
  // biome-ignore format: instruction groups on lines
  return [
    OP.localGet, V, OP.i64Const, ...sleb(8 * byte), OP.i64ShrU, OP.i32WrapI64,
    OP.i32Const, ...sleb(0xff), OP.i32And, OP.i32Const, 3, OP.i32Shl,
    OP.i64Load, ...mem(3, TABLES_AT + table * TABLE_BYTES),
  ];
}

function body(): number[] {
  // Byte j of the 8-byte word is looked up in table 7 - j (crc64.ts: lo = t7[b0] ^ … ^ t0[b7]).
  const step: number[] = [...lookup(0, 7)];
  for (let j = 1; j < 8; j++) step.push(...lookup(j, 7 - j), OP.i64Xor);
  // biome-ignore format: one instruction per line group reads better than one byte per line
  return [
    OP.localGet, PTR, OP.localGet, LEN, OP.i32Add, OP.localSet, END,
    OP.localGet, PTR, OP.localGet, LEN, OP.i32Const, ...sleb(-8), OP.i32And, OP.i32Add, OP.localSet, END8,
    OP.i32Const, ...sleb(STATE_AT), OP.i64Load, ...mem(3, 0), OP.localSet, CRC,
    // 8 bytes per step
    OP.block, VOID, OP.loop, VOID,
    OP.localGet, PTR, OP.localGet, END8, OP.i32GeU, OP.brIf, 1,
    OP.localGet, PTR, OP.i64Load, ...mem(0, 0), OP.localGet, CRC, OP.i64Xor, OP.localSet, V,
    ...step, OP.localSet, CRC,
    OP.localGet, PTR, OP.i32Const, 8, OP.i32Add, OP.localSet, PTR,
    OP.br, 0, OP.end, OP.end,
    // the last 0–7 bytes one at a time: crc = (crc >> 8) ^ T0[(crc ^ byte) & 0xff]
    OP.block, VOID, OP.loop, VOID,
    OP.localGet, PTR, OP.localGet, END, OP.i32GeU, OP.brIf, 1,
    OP.localGet, CRC, OP.i64Const, 8, OP.i64ShrU,
    OP.localGet, CRC, OP.i32WrapI64, OP.localGet, PTR, OP.i32Load8U, ...mem(0, 0), OP.i32Xor,
    OP.i32Const, ...sleb(0xff), OP.i32And, OP.i32Const, 3, OP.i32Shl,
    OP.i64Load, ...mem(3, TABLES_AT), OP.i64Xor, OP.localSet, CRC,
    OP.localGet, PTR, OP.i32Const, 1, OP.i32Add, OP.localSet, PTR,
    OP.br, 0, OP.end, OP.end,
    OP.i32Const, ...sleb(STATE_AT), OP.localGet, CRC, OP.i64Store, ...mem(3, 0),
    OP.end,
  ];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(text: string): number[] {
  return [...uleb(text.length), ...Buffer.from(text, "latin1")];
}

function moduleBytes(): Uint8Array {
  const code = body();
  const locals = [2, 2, I32, 2, I64]; // two groups: 2 × i32 (end, end8), 2 × i64 (crc, v)
  const func = [...locals, ...code];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 0]), // type 0: (i32, i32) → ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0x00, ...uleb(PAGES)]), // one memory, PAGES pages, no maximum
    ...section(7, [2, ...name("update"), 0x00, 0, ...name("memory"), 0x02, 0]),
    ...section(10, [1, ...uleb(func.length), ...func]),
  ]);
}

/** The part of the WebAssembly JS API used here (the project's TS lib has no DOM/wasm types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}

export interface WasmCrc {
  update(ptr: number, len: number): void;
  /** The module's memory: state words at [0, 1], input copied to WASM_DATA_AT. */
  bytes: Uint8Array;
  words: Int32Array;
}

/**
 * Instantiates the module with the slicing tables of crc64.ts (lo/hi halves of each entry), or
 * returns null where WebAssembly is unavailable (the JS loop then does all the work).
 */
export function createWasmCrc(
  tablesLo: readonly Int32Array[],
  tablesHi: readonly Int32Array[],
): WasmCrc | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  const instance = new api.Instance(new api.Module(moduleBytes()));
  const memory = instance.exports["memory"] as { buffer: ArrayBuffer };
  const words = new Int32Array(memory.buffer);
  for (let k = 0; k < 8; k++) {
    const base = (TABLES_AT + k * TABLE_BYTES) / 4;
    for (let i = 0; i < 256; i++) {
      words[base + 2 * i] = tablesLo[k]![i]!;
      words[base + 2 * i + 1] = tablesHi[k]![i]!;
    }
  }
  return {
    update: instance.exports["update"] as (ptr: number, len: number) => void,
    bytes: new Uint8Array(memory.buffer),
    words,
  };
}

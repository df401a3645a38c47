/**
 * DUMP payloads → a minimal RDB the streaming parser reads, so scan mode decodes values exactly as
 * a snapshot would (same filters, expiry, RESTORE-or-rewrite decision, big-key chunking) instead of
 * growing a second decoder. A DUMP payload's body is the RDB value encoding verbatim (cluster.c
 * createDumpPayload writes rdbSaveObjectType + rdbSaveObject), so type byte + key + body is a key
 * record of an RDB of the payload's version.
 */
import { RDB_OPCODE } from "../../rdb/constants.ts";
import { parseDumpPayload } from "../../rdb/payload.ts";

export interface DumpedKey {
  db: number;
  key: Buffer;
  payload: Buffer;
  /** Absolute expiry (unix ms), when the key has a TTL. */
  expireAtMs?: number;
}

/** RDB length encoding (rdb.c rdbSaveLen): 6, 14, 32 or 64 bits. */
function encodeLength(n: number): Buffer {
  if (n < 1 << 6) return Buffer.from([n]);
  if (n < 1 << 14) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  if (n <= 0xffffffff) {
    const out = Buffer.alloc(5);
    out[0] = 0x80;
    out.writeUInt32BE(n, 1);
    return out;
  }
  const out = Buffer.alloc(9);
  out[0] = 0x81;
  out.writeBigUInt64BE(BigInt(n), 1);
  return out;
}

/** Header magic for a payload version: Valkey 9+ versions (≥ 80) use `VALKEY` + 3 digits. */
function header(version: number): Buffer {
  return Buffer.from(
    version >= 80 ? `VALKEY${String(version).padStart(3, "0")}` : `REDIS${String(version).padStart(4, "0")}`,
    "latin1",
  );
}

/**
 * One RDB holding `keys` (all from the same server, hence one payload version). Every payload's
 * CRC is verified first: a corrupted payload must not be rewritten into the target.
 * Returns null for an empty list.
 */
export function rdbFromDumps(keys: readonly DumpedKey[]): Buffer | null {
  if (keys.length === 0) return null;
  const parts: Buffer[] = [];
  let version = 0;
  let db = -1;
  for (const k of keys) {
    const { rdbType, valueBytes, rdbVersion } = parseDumpPayload(k.payload);
    if (version === 0) {
      version = rdbVersion;
      parts.push(header(version));
    }
    if (k.db !== db) {
      db = k.db;
      parts.push(Buffer.from([RDB_OPCODE.SELECTDB]), encodeLength(db));
    }
    if (k.expireAtMs !== undefined) {
      const expire = Buffer.alloc(9);
      expire[0] = RDB_OPCODE.EXPIRETIME_MS;
      expire.writeBigInt64LE(BigInt(k.expireAtMs), 1);
      parts.push(expire);
    }
    parts.push(Buffer.from([rdbType]), encodeLength(k.key.length), k.key, valueBytes);
  }
  // EOF + a zero checksum, which readers treat as "not computed" (rdb.c rdbLoadRio).
  parts.push(Buffer.from([RDB_OPCODE.EOF]));
  if (version >= 5) parts.push(Buffer.alloc(8));
  return Buffer.concat(parts);
}

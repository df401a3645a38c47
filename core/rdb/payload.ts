import { Crc64, crc64 } from "./crc64.ts";
import { RdbFormatError } from "./errors.ts";

/**
 * DUMP/RESTORE payload (cluster.c createDumpPayload): type byte, value bytes, RDB version as
 * 2 bytes little-endian, then the CRC-64 of all of that as 8 bytes little-endian. A target refuses
 * a payload whose version is newer than its own RDB version.
 */
export function dumpPayload(rdbType: number, valueBytes: Buffer, rdbVersion: number): Buffer {
  return dumpPayloadOf(rdbType, valueBytes, 0, valueBytes.length, rdbVersion);
}

/**
 * dumpPayload of `src[from, to)`: one allocation, one copy (the parser builds it from its input).
 * The payload's CRC is a pass of its own over the value bytes; the RDB's running CRC reads them
 * again when the parser drops them from its input. The two passes, both in WebAssembly over long
 * spans, cost less than deriving one CRC from the other: that took two zero-skip operator
 * applications and three small CRC updates per key (~500 → ~380 ms of CRC work in a 300k-key
 * snapshot profile).
 */
export function dumpPayloadOf(
  rdbType: number,
  src: Buffer,
  from: number,
  to: number,
  rdbVersion: number,
): Buffer {
  if (!Number.isInteger(rdbType) || rdbType < 0 || rdbType > 255)
    throw new RangeError(`bad RDB type ${rdbType}`);
  if (!Number.isInteger(rdbVersion) || rdbVersion < 1 || rdbVersion > 0xffff)
    throw new RangeError(`bad RDB version ${rdbVersion}`);
  const length = to - from;
  const out = Buffer.allocUnsafe(1 + length + 10);
  out[0] = rdbType;
  out.set(src.subarray(from, to), 1);
  out.writeUInt16LE(rdbVersion, 1 + length);
  const crcAt = out.length - 8;
  new Crc64().update(out, 0, crcAt).writeLE(out, crcAt);
  return out;
}

/** Splits a DUMP payload back into its parts, verifying the footer (used by tests and `ferry verify`). */
export function parseDumpPayload(payload: Buffer): {
  rdbType: number;
  valueBytes: Buffer;
  rdbVersion: number;
} {
  if (payload.length < 11)
    throw new RdbFormatError(`DUMP payload of ${payload.length} bytes is too short`, 0);
  const crcAt = payload.length - 8;
  const stored = payload.readBigUInt64LE(crcAt);
  const computed = crc64(payload.subarray(0, crcAt));
  if (stored !== computed) throw new RdbFormatError("DUMP payload checksum mismatch", crcAt);
  return {
    rdbType: payload[0]!,
    valueBytes: payload.subarray(1, crcAt - 2),
    rdbVersion: payload.readUInt16LE(crcAt - 2),
  };
}

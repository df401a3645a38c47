/**
 * The EVALSHA frames of many script parts (clusterScript.ts), encoded back to back into one Buffer
 * for one socket write (clusterBatch.ts).
 *
 * Why not encodeCommands(applyScriptArgs(…)): during a snapshot a part is ~one key, so the generic
 * path built an argument array per key, boxed its counts as numbers turned into strings, and wrote
 * ~13 length headers per key through Buffer#write — the largest cost left in the cluster writer's
 * profile. Here the constant prefix is copied once per part, lengths are written digit by digit
 * and the commands' Buffers are copied as they are. Same bytes as the generic encoder (tested).
 */
import { bulkLength, decimalDigits, writeDecimal, writeHeader } from "../resp/encoder.ts";
import { APPLY_SHA } from "./clusterScript.ts";

export interface ApplyFrame {
  /** The slot marker (KEYS[1]). */
  markerKey: string;
  /** The commands' keys (KEYS[2..]). */
  keys: readonly Buffer[];
  /** Marker values (ASCII): the one the commands were filtered against ('' = none), the new one. */
  expected: string;
  next: string;
  commands: ReadonlyArray<{ argv: readonly Buffer[] }>;
}

/** `$7\r\nEVALSHA\r\n$40\r\n<sha>\r\n`: the same for every part. */
const PREFIX = Buffer.from(`$7\r\nEVALSHA\r\n$40\r\n${APPLY_SHA}\r\n`, "latin1");

export function encodeApplyFrames(frames: readonly ApplyFrame[]): Buffer {
  let size = 0;
  for (const frame of frames) size += frameLength(frame);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const frame of frames) at = writeFrame(out, at, frame);
  return out;
}

function argCount(frame: ApplyFrame): number {
  let count = 2 + 1 + 1 + frame.keys.length + 2;
  for (const { argv } of frame.commands) count += 1 + argv.length;
  return count;
}

function frameLength(frame: ApplyFrame): number {
  const numkeys = 1 + frame.keys.length;
  let size = 1 + decimalDigits(argCount(frame)) + 2 + PREFIX.length;
  size += bulkLength(decimalDigits(numkeys)) + bulkLength(Buffer.byteLength(frame.markerKey, "utf8"));
  for (const key of frame.keys) size += bulkLength(key.length);
  size += bulkLength(frame.expected.length) + bulkLength(frame.next.length);
  for (const { argv } of frame.commands) {
    size += bulkLength(decimalDigits(argv.length));
    for (const arg of argv) size += bulkLength(arg.length);
  }
  return size;
}

function crlf(out: Buffer, at: number): number {
  out[at] = 0x0d;
  out[at + 1] = 0x0a;
  return at + 2;
}

function writeBulk(out: Buffer, at: number, arg: Buffer): number {
  const body = writeHeader(out, at, 0x24, arg.length);
  return crlf(out, body + arg.copy(out, body));
}

function writeBulkUint(out: Buffer, at: number, n: number): number {
  return crlf(out, writeDecimal(out, writeHeader(out, at, 0x24, decimalDigits(n)), n));
}

function writeBulkText(out: Buffer, at: number, text: string, encoding: "latin1" | "utf8"): number {
  const body = writeHeader(out, at, 0x24, Buffer.byteLength(text, encoding));
  return crlf(out, body + out.write(text, body, encoding));
}

function writeFrame(out: Buffer, at: number, frame: ApplyFrame): number {
  let pos = writeHeader(out, at, 0x2a, argCount(frame));
  pos += PREFIX.copy(out, pos);
  pos = writeBulkUint(out, pos, 1 + frame.keys.length);
  pos = writeBulkText(out, pos, frame.markerKey, "utf8");
  for (const key of frame.keys) pos = writeBulk(out, pos, key);
  pos = writeBulkText(out, pos, frame.expected, "latin1");
  pos = writeBulkText(out, pos, frame.next, "latin1");
  for (const { argv } of frame.commands) {
    pos = writeBulkUint(out, pos, argv.length);
    for (const arg of argv) pos = writeBulk(out, pos, arg);
  }
  return pos;
}

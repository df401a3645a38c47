import { gzipSync } from "node:zlib";
import { FatalError } from "../errors.ts";
import type { Batch, Command } from "../model.ts";
import {
  COMMAND_FLAGS,
  COMPRESS_MIN_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  FLAGS,
  KIND_CODES,
  OPTIONAL_FIELDS,
  WIRE_HEADER_BYTES,
  WIRE_MAGIC,
  WIRE_VERSION,
} from "./format.ts";
import { uvarSize, Writer } from "./varint.ts";

export interface EncodeOptions {
  /** Cap on each message body (base64 characters). Default: 1 MiB minus headroom for attributes. */
  maxBytes?: number;
  /** gzip the payload when it is large enough and gzip makes it smaller. Default true. */
  compress?: boolean;
}

const strSize = (s: string): number => {
  const n = Buffer.byteLength(s);
  return uvarSize(n) + n;
};

export function commandSize(command: Command): number {
  let size = 1 + uvarSize(command.offset) + uvarSize(command.db) + uvarSize(command.argv.length);
  if (command.seq !== undefined) size += uvarSize(command.seq);
  if (command.txn !== undefined) size += uvarSize(command.txn);
  for (const arg of command.argv) size += uvarSize(arg.length) + arg.length;
  return size;
}

function headSize(batch: Batch): number {
  return (
    strSize(batch.job) +
    strSize(batch.shard) +
    strSize(batch.replid) +
    1 +
    uvarSize(batch.first) +
    uvarSize(batch.last) +
    uvarSize(batch.bytes) +
    1 +
    (batch.snapshotOffset === undefined ? 0 : uvarSize(batch.snapshotOffset)) +
    (batch.endDb === undefined ? 0 : uvarSize(batch.endDb)) +
    (batch.after === undefined ? 0 : uvarSize(batch.after)) +
    uvarSize(batch.commands.length)
  );
}

/** The uncompressed payload of one batch (no frame header). */
export function encodePayload(batch: Batch): Buffer {
  let size = headSize(batch);
  for (const command of batch.commands) size += commandSize(command);
  const w = new Writer(size);
  w.bytes(Buffer.from(batch.job));
  w.bytes(Buffer.from(batch.shard));
  w.bytes(Buffer.from(batch.replid));
  w.u8(KIND_CODES[batch.kind]);
  w.uvar(batch.first);
  w.uvar(batch.last);
  w.uvar(batch.bytes);
  w.u8(
    (batch.snapshotOffset === undefined ? 0 : OPTIONAL_FIELDS.snapshotOffset) |
      (batch.endDb === undefined ? 0 : OPTIONAL_FIELDS.endDb) |
      (batch.after === undefined ? 0 : OPTIONAL_FIELDS.after),
  );
  if (batch.snapshotOffset !== undefined) w.uvar(batch.snapshotOffset);
  if (batch.endDb !== undefined) w.uvar(batch.endDb);
  if (batch.after !== undefined) w.uvar(batch.after);
  w.uvar(batch.commands.length);
  for (const command of batch.commands) {
    const flags =
      (command.seq === undefined ? 0 : COMMAND_FLAGS.seq) |
      (command.txn === undefined ? 0 : COMMAND_FLAGS.txn);
    w.u8(flags);
    w.uvar(command.offset);
    w.uvar(command.db);
    if (command.seq !== undefined) w.uvar(command.seq);
    if (command.txn !== undefined) w.uvar(command.txn);
    w.uvar(command.argv.length);
    for (const arg of command.argv) w.bytes(arg);
  }
  return w.done();
}

function frame(payload: Buffer, compress: boolean): string {
  let flags = 0;
  let body = payload;
  if (compress && payload.length >= COMPRESS_MIN_BYTES) {
    const zipped = gzipSync(payload, { level: 6 });
    if (zipped.length < payload.length) {
      body = zipped;
      flags |= FLAGS.gzip;
    }
  }
  const header = Buffer.from([WIRE_MAGIC[0]!, WIRE_MAGIC[1]!, WIRE_VERSION, flags]);
  return Buffer.concat([header, body]).toString("base64");
}

/**
 * Consecutive commands that must travel together: a source MULTI…EXEC (same txn id) is applied as
 * one transaction on the target, so it is never split across messages.
 */
function units(commands: Command[]): Command[][] {
  const out: Command[][] = [];
  for (const command of commands) {
    const last = out.at(-1);
    const lastTxn = last?.[0]?.txn;
    if (last && command.txn !== undefined && lastTxn === command.txn) last.push(command);
    else out.push([command]);
  }
  return out;
}

/**
 * One part of a split batch. Only the last part keeps `endDb`: an earlier part ends at its own last
 * command, whose db is what an absent `endDb` means. `after` chains: the first part continues from
 * the batch's `after`, each later part from the part before it, so the writer's gap check holds.
 */
function part(batch: Batch, commands: Command[], after: number | undefined): Batch {
  const firstCommand = commands[0]!;
  const lastCommand = commands.at(-1)!;
  const position = (c: Command): number => (batch.kind === "snapshot" ? (c.seq ?? c.offset) : c.offset);
  let bytes = 0;
  for (const c of commands) for (const arg of c.argv) bytes += arg.length;
  const out: Batch = {
    job: batch.job,
    shard: batch.shard,
    replid: batch.replid,
    kind: batch.kind,
    first: position(firstCommand),
    last: position(lastCommand),
    commands,
    bytes,
  };
  if (batch.snapshotOffset !== undefined) out.snapshotOffset = batch.snapshotOffset;
  if (batch.endDb !== undefined && lastCommand === batch.commands.at(-1)) out.endDb = batch.endDb;
  if (after !== undefined) out.after = after;
  return out;
}

/** One message of an encoded batch, with the positions its dedup id is derived from. */
export interface EncodedPart {
  body: string;
  first: number;
  last: number;
}

/**
 * Encodes a batch as one or more message bodies, each at most `maxBytes` characters. A batch too big
 * for one message is split at command boundaries (never inside a source transaction); each part is a
 * batch of its own with its own first/last, so the writer's marker check works per part.
 */
export function encodeBatch(batch: Batch, options: EncodeOptions = {}): string[] {
  return encodeBatchParts(batch, options).map((p) => p.body);
}

export function encodeBatchParts(batch: Batch, options: EncodeOptions = {}): EncodedPart[] {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const compress = options.compress ?? true;
  const whole = frame(encodePayload(batch), compress);
  if (whole.length <= maxBytes || batch.commands.length <= 1) {
    if (whole.length > maxBytes) throw tooBig(batch, batch.commands, whole.length, maxBytes);
    return [{ body: whole, first: batch.first, last: batch.last }];
  }

  // Pack by uncompressed size (an upper bound, so every packed part fits), then frame each part.
  const budget = Math.floor(maxBytes / 4) * 3 - WIRE_HEADER_BYTES - headSize(batch);
  const parts: EncodedPart[] = [];
  let after = batch.after;
  const emit = (commands: Command[]): void => {
    const p = part(batch, commands, after);
    if (after !== undefined) after = p.last;
    const body = frame(encodePayload(p), compress);
    if (body.length > maxBytes) throw tooBig(batch, commands, body.length, maxBytes);
    parts.push({ body, first: p.first, last: p.last });
  };
  let current: Command[] = [];
  let currentSize = 0;
  for (const unit of units(batch.commands)) {
    let unitSize = 0;
    for (const c of unit) unitSize += commandSize(c);
    if (current.length > 0 && currentSize + unitSize > budget) {
      emit(current);
      current = [];
      currentSize = 0;
    }
    if (unitSize > budget) {
      // Alone it is over the raw budget; gzip may still bring it under the cap (emit checks).
      emit(unit);
      continue;
    }
    current.push(...unit);
    currentSize += unitSize;
  }
  if (current.length > 0) emit(current);
  return parts;
}

function tooBig(batch: Batch, commands: Command[], size: number, maxBytes: number): FatalError {
  const what = commands.length === 1 ? "a single command" : `a transaction of ${commands.length} commands`;
  const offset = commands[0]?.offset ?? batch.first;
  return new FatalError(
    `${what} of shard ${batch.shard} (offset ${offset}) encodes to ${size} bytes, over the ${maxBytes}-byte message cap`,
    "lower the big-key threshold so large values are sent in chunks, or split the transaction on the source",
  );
}

/**
 * One guarded, exactly-once transaction on a standalone target, as plain data: which commands of a
 * batch still need applying, how they are cut into transactions, the argv to send, and what the
 * replies mean. The connection handling lives in standalone.ts.
 *
 * Wire layout of one transaction (pipelined, no round trip in between):
 *
 *   SELECT <markerDb>
 *   WATCH <marker>
 *   EVAL <guard> 1 <marker> <expected>      -- touches <marker> if it is not <expected>
 *   MULTI
 *   [SELECT <db>] <command> …               -- a SELECT only where the db changes
 *   SELECT <markerDb>
 *   SET <marker> <new marker>
 *   EXEC                                     -- nil when the guard or anyone else touched <marker>
 *
 * Why the guard: WATCH only sees changes made after it, but the writer filters with a cached marker
 * (read once) and pipelines several batches, so the marker may have moved before WATCH (a duplicate
 * writer, a Lambda retry). A key modified by the watching client itself also aborts its EXEC, so the
 * guard script turns "marker is not what I filtered against" into an aborted EXEC — atomically,
 * without waiting for a GET reply before sending MULTI.
 */

import type { Batch, Command } from "../model.ts";
import { encodedSize } from "../pipeline/batcher.ts";
import { encodedLength, writeCommand } from "../resp/encoder.ts";
import { rawEncoding } from "../resp/raw.ts";
import { StreamCommand } from "../resp/streamCommand.ts";
import { encodeMarker, isApplied } from "./marker.ts";
import type { MarkerState } from "./types.ts";

export const GUARD_SCRIPT = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] or (ARGV[1] == '' and not v) then return 1 end
if v then redis.call('SET', KEYS[1], v) else redis.call('SET', KEYS[1], '') redis.call('DEL', KEYS[1]) end
return 0`;

export interface ExecLimits {
  /** Commands per MULTI…EXEC (the target blocks every client while it runs one). */
  maxCommands: number;
  maxBytes: number;
}

export interface TxPlan {
  commands: Command[];
  /** Marker value written by this transaction. */
  marker: MarkerState;
}

export interface BatchPlan {
  /** Empty when the batch is already fully applied. */
  transactions: TxPlan[];
  skipped: number;
  /** The marker once every transaction is applied. */
  final: MarkerState;
  /** A batch before this one is not applied yet (lost or reordered): apply nothing, retry later. */
  gap: boolean;
}

/**
 * Does `marker` cover everything before `batch`? Snapshot seqs are contiguous from 1; stream
 * batches say where they continue from (`after`). A marker of another history cannot be compared.
 */
export function followsMarker(batch: Batch, marker: MarkerState | null): boolean {
  if (batch.kind === "snapshot") {
    if (batch.first <= 1) return true;
    const sameSnapshot = marker?.replid === batch.replid && marker.offset === batch.snapshotOffset;
    return sameSnapshot && marker.seq !== undefined && marker.seq >= batch.first - 1;
  }
  if (batch.after === undefined || !marker || marker.replid !== batch.replid) return true;
  return marker.offset >= batch.after;
}

function position(batch: Batch, command: Command): { replid: string; offset: number; seq?: number } {
  return command.seq === undefined
    ? { replid: batch.replid, offset: command.offset }
    : { replid: batch.replid, offset: command.offset, seq: command.seq };
}

/** Marker state after `command` (or after the whole batch when `command` is its end). */
function markerAfter(batch: Batch, last: Command | undefined, db: number, end: boolean): MarkerState {
  if (batch.kind === "snapshot") {
    return {
      replid: batch.replid,
      offset: batch.snapshotOffset ?? last?.offset ?? 0,
      db,
      seq: end ? batch.last : (last?.seq ?? batch.last),
    };
  }
  return { replid: batch.replid, offset: end ? batch.last : (last?.offset ?? batch.last), db };
}

/**
 * True when no command of `batch` can be applied yet by `marker` (isApplied would say false for
 * each), decided without a position object per command: stream offsets and snapshot seqs only grow
 * within a batch, so the first command decides.
 */
function nothingApplied(batch: Batch, marker: MarkerState | null): boolean {
  const first = batch.commands[0];
  if (!marker || marker.replid !== batch.replid || first === undefined) return true;
  if (batch.kind !== "stream" || first.seq !== undefined) return false;
  return marker.seq !== undefined || first.offset > marker.offset;
}

/**
 * Drops what `marker` says is applied and cuts the rest into transactions of at most `limits`,
 * never splitting a source transaction (consecutive commands sharing `txn`).
 */
export function planBatch(batch: Batch, marker: MarkerState | null, limits: ExecLimits): BatchPlan {
  const todo = nothingApplied(batch, marker)
    ? batch.commands
    : batch.commands.filter((c) => !isApplied(marker, position(batch, c)));
  const skipped = batch.commands.length - todo.length;
  const lastCommand = batch.commands[batch.commands.length - 1];
  const sameHistory = marker !== null && marker.replid === batch.replid;
  const endDb = batch.endDb ?? lastCommand?.db ?? (sameHistory ? marker.db : 0);
  const final = markerAfter(batch, lastCommand, endDb, true);
  const endPosition =
    batch.kind === "snapshot"
      ? { replid: batch.replid, offset: final.offset, seq: batch.last }
      : { replid: batch.replid, offset: batch.last };
  if (todo.length === 0 && isApplied(marker, endPosition)) {
    return { transactions: [], skipped, final: marker!, gap: false };
  }
  if (!followsMarker(batch, marker)) return { transactions: [], skipped: 0, final, gap: true };

  const transactions: TxPlan[] = [];
  let current: Command[] = [];
  let bytes = 0;
  const cut = (end: boolean): void => {
    const last = current[current.length - 1];
    transactions.push({
      commands: current,
      marker: end ? final : markerAfter(batch, last, last?.db ?? endDb, false),
    });
    current = [];
    bytes = 0;
  };
  if (todo.length <= limits.maxCommands && batch.bytes <= limits.maxBytes) {
    // The common case (batches are sealed well under the EXEC caps): one transaction, no copy.
    current = todo;
  } else {
    for (let i = 0; i < todo.length; ) {
      const txn = todo[i]!.txn;
      let j = i + 1;
      if (txn !== undefined) while (j < todo.length && todo[j]!.txn === txn) j++;
      let unitBytes = 0;
      for (let k = i; k < j; k++) unitBytes += encodedSize(todo[k]!);
      if (
        current.length > 0 &&
        (current.length + (j - i) > limits.maxCommands || bytes + unitBytes > limits.maxBytes)
      ) {
        cut(false);
      }
      for (let k = i; k < j; k++) current.push(todo[k]!);
      bytes += unitBytes;
      i = j;
    }
  }
  cut(true);
  return { transactions, skipped, final, gap: false };
}

export interface WireTx {
  /**
   * Every frame of the transaction; null for a queued source command (its argv is
   * `queued[i - multiAt - 1].argv`, built only when a reply has to name it: see argvAt).
   */
  frames: Array<Buffer[] | null>;
  /**
   * The whole transaction encoded for one socket write: source commands that arrived with their
   * RESP bytes (core/resp/raw.ts) are copied verbatim, the rest encoded from argv. Valid only until
   * the socket has taken it: the standalone writer lends it from a slab pool and reuses it then.
   */
  payload: Buffer;
  /** Index in `frames` of MULTI and EXEC. */
  multiAt: number;
  execAt: number;
  /** For each command queued between MULTI and EXEC: the source command, or null (SELECT, marker SET). */
  queued: Array<Command | null>;
}

/** The argv of frame `i` of `wire` (for error messages). */
export function argvAt(wire: WireTx, i: number): Buffer[] {
  return wire.frames[i] ?? wire.queued[i - wire.multiAt - 1]?.argv ?? [];
}

const b = (s: string | number): Buffer => Buffer.from(String(s));

/**
 * @param alloc where the payload's bytes go: `size` bytes, uninitialised (the standalone writer
 *   passes its slab pool).
 */
export function wireTransaction(
  plan: TxPlan,
  expected: MarkerState | null,
  key: Buffer,
  markerDb: number,
  alloc: (size: number) => Buffer = Buffer.allocUnsafe,
): WireTx {
  const frames: Array<Buffer[] | null> = [
    [b("SELECT"), b(markerDb)],
    [b("WATCH"), key],
    [b("EVAL"), b(GUARD_SCRIPT), b(1), key, b(expected ? encodeMarker(expected) : "")],
    [b("MULTI")],
  ];
  const multiAt = frames.length - 1;
  const queued: Array<Command | null> = [];
  let db = markerDb;
  for (const command of plan.commands) {
    if (command.db !== db) {
      frames.push([b("SELECT"), b(command.db)]);
      queued.push(null);
      db = command.db;
    }
    frames.push(null);
    queued.push(command);
  }
  if (db !== markerDb) {
    frames.push([b("SELECT"), b(markerDb)]);
    queued.push(null);
  }
  frames.push([b("SET"), key, b(encodeMarker(plan.marker))]);
  queued.push(null);
  frames.push([b("EXEC")]);
  const wire: WireTx = { frames, payload: EMPTY, multiAt, execAt: frames.length - 1, queued };
  wire.payload = encodeWire(wire, alloc);
  return wire;
}

const EMPTY = Buffer.alloc(0);

function encodeWire(wire: WireTx, alloc: (size: number) => Buffer): Buffer {
  const { frames, queued, multiAt } = wire;
  // Per frame: a source frame copied as is (StreamCommand, or the `raw` of another command), or
  // argv to encode.
  const raws: Array<StreamCommand | Buffer | undefined> = new Array(frames.length);
  let size = 0;
  for (let i = 0; i < frames.length; i++) {
    const command = i > multiAt ? queued[i - multiAt - 1] : null;
    if (command instanceof StreamCommand && command.untouched) {
      raws[i] = command;
      size += command.frameBytes;
      continue;
    }
    const raw = command ? rawEncoding(command) : undefined;
    raws[i] = raw;
    size += raw ? raw.length : encodedLength(argvAt(wire, i));
  }
  const out = alloc(size);
  let at = 0;
  for (let i = 0; i < frames.length; i++) {
    const raw = raws[i];
    if (raw instanceof StreamCommand) {
      // Commands that arrived in one read lie back to back in its buffer: one copy for the run.
      let last = raw;
      for (let next = raws[i + 1]; next instanceof StreamCommand && last.adjoins(next); next = raws[i + 1]) {
        last = next;
        i++;
      }
      at += StreamCommand.copyRun(raw, last, out, at);
    } else at = raw ? at + raw.copy(out, at) : writeCommand(out, at, argvAt(wire, i));
  }
  return out;
}

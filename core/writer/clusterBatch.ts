/**
 * The first attempt at a batch's slot parts on one node: one `EVALSHA <apply script>` per part
 * (clusterScript.ts), all of them encoded into one buffer and written at once on the node's raw
 * connection (clusterWire.ts), replies settled in order — instead of one ioredis command, promise
 * and socket write per part.
 *
 * Each part's script needs the slot marker value its commands were filtered against:
 * - cached (this writer wrote or read it last): used as is;
 * - `guessAbsent` (the shard had no marker when this writer started it, so its slot markers are
 *   the ones this writer wrote — all cached — or none): sent expecting "no marker";
 * - otherwise read first, with one `GET` per part in one write.
 * A wrong guess costs one more round: the script answers nil (its guard runs before any write),
 * the marker is read and the part sent again. `NOSCRIPT` (node restarted, SCRIPT FLUSH) means the
 * script did not run either: `SCRIPT LOAD` goes ahead of the resent parts in the same write.
 *
 * Exactly-once is the script's: it moves the marker only when the marker is the expected value,
 * atomically with the commands. Nothing here retries what may have run: a part whose attempt
 * failed (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, a guard miss on a known marker, a lost link — its
 * script may or may not have run) is handed back with its error, and the caller sends it through
 * the per-part path (clusterRoute.onSlot), which classifies that error first and re-reads the
 * marker before anything is sent again. Parts that cannot run in a script are not tried here.
 */
import type { CommandTable } from "../commands/table.ts";
import { FatalError } from "../errors.ts";
import { encodeCommand } from "../resp/encoder.ts";
import { type ApplyFrame, encodeApplyFrames } from "./clusterFrames.ts";
import type { MarkerCache, PartResult } from "./clusterPart.ts";
import { pendingEntries, scriptPartResult, stateAt, WatchAborted } from "./clusterPart.ts";
import type { Entry } from "./clusterPlan.ts";
import { isNoScript, LOAD_APPLY_SCRIPT, scriptErrors, scriptKeys } from "./clusterScript.ts";
import { decodeMarker, encodeMarker } from "./marker.ts";
import type { Settled } from "./replies.ts";
import { isReplyError } from "./targetErrors.ts";
import type { TxConnection } from "./txConnection.ts";
import type { MarkerState } from "./types.ts";

export interface NodePart {
  slot: number;
  markerKey: string;
  entries: Entry[];
}

export type FirstAttempt =
  | { kind: "applied"; result: PartResult }
  /** Hand to the per-part path, which starts by classifying `error` (redirect, retry, fatal). */
  | { kind: "failed"; error: unknown }
  /** Its script never ran: the per-part path applies it as if nothing happened. */
  | { kind: "untried" };

export interface NodeAttemptOptions {
  floor: MarkerState | null;
  cache: MarkerCache;
  table: CommandTable;
  guessAbsent: boolean;
}

const UNTRIED: FirstAttempt = { kind: "untried" };
/** Rounds per attempt: guess → read → send, plus one for a NOSCRIPT. Left over → untried. */
const MAX_ROUNDS = 4;

interface Pending {
  index: number;
  part: NodePart;
  keys: Buffer[];
  /** What the next write carries for this part. */
  phase: "read" | "send";
  marker: MarkerState | null;
  /** `marker` is a guess (absent), not a value read or cached. */
  guessed: boolean;
  /** Whether to cache `marker` when nothing is left to apply (it was read, not cached). */
  fresh: boolean;
  todo: readonly Entry[];
  next: MarkerState | null;
  /** Its outcome is in `out`. */
  done: boolean;
}

export async function applyOnNode(
  connection: TxConnection,
  parts: readonly NodePart[],
  opts: NodeAttemptOptions,
): Promise<FirstAttempt[]> {
  const out = new Array<FirstAttempt>(parts.length).fill(UNTRIED);
  let live: Pending[] = [];
  parts.forEach((part, index) => {
    const keys = scriptKeys(opts.table, part.entries);
    if (!keys) return;
    // Forget the cached value unless this attempt succeeds: any failure re-reads the marker.
    const cached = opts.cache.get(part.markerKey);
    opts.cache.delete(part.markerKey);
    const known = cached !== undefined;
    live.push({
      index,
      part,
      keys,
      phase: known || opts.guessAbsent ? "send" : "read",
      marker: cached ?? null,
      guessed: !known,
      fresh: !known,
      todo: part.entries,
      next: null,
      done: false,
    });
  });

  let load = false;
  let loaded = false;
  for (let round = 0; round < MAX_ROUNDS && live.length > 0; round++) {
    const reads = live.filter((p) => p.phase === "read");
    const sends = live.filter((p) => p.phase === "send" && prepare(p, opts, out));
    if (reads.length + sends.length === 0) break;
    const head = load ? [encodeCommand(LOAD_APPLY_SCRIPT)] : [];
    const gets = reads.map((p) => encodeCommand(["GET", p.part.markerKey]));
    const frames = encodeApplyFrames(sends.map(frameOf));
    const payload = head.length + gets.length > 0 ? Buffer.concat([...head, ...gets, frames]) : frames;
    const replies = await connection.sendEncoded(payload, head.length + reads.length + sends.length);
    loaded ||= load;
    load = false;
    reads.forEach((p, i) => {
      const reply = replies[head.length + i]!;
      if (!reply.ok) {
        fail(out, p, reply.error);
        return;
      }
      p.marker = decodeMarker(reply.value as Buffer | null);
      p.guessed = false;
      p.phase = "send";
    });
    sends.forEach((p, i) => {
      const reply = replies[head.length + reads.length + i]!;
      if (reply.ok && reply.value === null && p.guessed) p.phase = "read";
      else if (!reply.ok && isNoScript(reply.error) && !loaded) load = true;
      else settle(out, p, reply, opts.cache);
    });
    live = live.filter((p) => !p.done);
  }
  return out;
}

/** Filter the part against its marker; false when nothing is left (then it is settled here). */
function prepare(p: Pending, opts: NodeAttemptOptions, out: FirstAttempt[]): boolean {
  const todo = pendingEntries(p.part.entries, p.marker, opts.floor);
  if (todo.length === 0) {
    if (p.fresh && !p.guessed) opts.cache.set(p.part.markerKey, p.marker);
    out[p.index] = {
      kind: "applied",
      result: { applied: 0, done: [], skipped: p.part.entries.length, errors: [] },
    };
    p.done = true;
    return false;
  }
  // Replays only: declare just the keys of what still runs.
  if (todo !== p.todo) p.keys = scriptKeys(opts.table, todo) ?? p.keys;
  p.todo = todo;
  p.next = stateAt(todo[todo.length - 1]!.pos, 0);
  return true;
}

function frameOf(p: Pending): ApplyFrame {
  return {
    markerKey: p.part.markerKey,
    keys: p.keys,
    expected: p.marker ? encodeMarker(p.marker) : "",
    next: encodeMarker(p.next!),
    commands: p.todo,
  };
}

function settle(out: FirstAttempt[], p: Pending, reply: Settled, cache: MarkerCache): void {
  if (!reply.ok) {
    // Still NOSCRIPT after SCRIPT LOAD (a flush in between): the per-part path sends EVAL.
    if (isNoScript(reply.error)) p.done = true;
    else fail(out, p, reply.error);
    return;
  }
  const refused = scriptErrors(reply.value);
  if (refused === null) {
    fail(out, p, new WatchAborted());
    return;
  }
  cache.set(p.part.markerKey, p.next!);
  out[p.index] = { kind: "applied", result: scriptPartResult(p.todo, p.part.entries.length, refused) };
  p.done = true;
}

/**
 * Failures that are not the server's reply (reset, reply timeout, connect refused) read as a lost
 * link to clusterRoute.classify, which retries those and drops the node's client: a link that
 * failed mid-write may have run some scripts, so only the marker can tell.
 */
function fail(out: FirstAttempt[], p: Pending, error: unknown): void {
  const keep = isReplyError(error) || error instanceof WatchAborted || error instanceof FatalError;
  const detail = error instanceof Error ? error.message : String(error);
  out[p.index] = {
    kind: "failed",
    error: keep ? error : new Error(`Connection is closed (${detail})`, { cause: error }),
  };
  p.done = true;
}

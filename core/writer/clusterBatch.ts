/**
 * The first attempt at a batch's slot parts on one node, in (at most) two writes instead of one
 * round of ioredis commands per part:
 *
 *   1. `GET <slot marker>` for every part whose marker is not cached — one write;
 *   2. one `EVALSHA <apply script>` per part (clusterScript.ts) — one write. A `NOSCRIPT` reply
 *      (node restarted, SCRIPT FLUSH) means that part's script did not run: `SCRIPT LOAD` and those
 *      parts again, in one more write.
 *
 * Exactly-once is unchanged: each part is still one script that checks its slot marker against the
 * value it was filtered with and moves it atomically with the commands, and replies are read in
 * order on one connection. Nothing here retries: a part whose attempt failed (MOVED, ASK,
 * TRYAGAIN, CLUSTERDOWN, a guard miss, a lost link — its script may or may not have run) is handed
 * back with its error and the caller sends it through the per-part path (clusterRoute.onSlot),
 * which classifies that error first and then re-reads the marker before anything is sent again.
 * Parts whose commands cannot run in a script are not tried here (the MULTI path runs them).
 */
import type { CommandTable } from "../commands/table.ts";
import { FatalError } from "../errors.ts";
import { encodeCommands } from "../resp/encoder.ts";
import type { MarkerCache, PartResult } from "./clusterPart.ts";
import { pendingEntries, scriptPartResult, stateAt, WatchAborted } from "./clusterPart.ts";
import type { Entry } from "./clusterPlan.ts";
import { applyScriptArgs, isNoScript, LOAD_APPLY_SCRIPT, scriptErrors, scriptKeys } from "./clusterScript.ts";
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
  /** Not tried (not script-able): the per-part path applies it as if nothing happened. */
  | { kind: "untried" };

const UNTRIED: FirstAttempt = { kind: "untried" };

/** A part on its way through the attempt. */
interface Pending {
  index: number;
  part: NodePart;
  keys: Buffer[];
  /** Marker value read or cached; undefined until the GET is answered. */
  marker?: MarkerState | null;
  fresh: boolean;
  todo?: readonly Entry[];
  next?: MarkerState;
  args?: Array<Buffer | string | number>;
}

export async function applyOnNode(
  connection: TxConnection,
  parts: readonly NodePart[],
  floor: MarkerState | null,
  cache: MarkerCache,
  table: CommandTable,
): Promise<FirstAttempt[]> {
  const out: FirstAttempt[] = new Array<FirstAttempt>(parts.length).fill(UNTRIED);
  const fail = (p: Pending, error: unknown): void => {
    out[p.index] = { kind: "failed", error: asLinkError(error) };
  };
  let pending: Pending[] = [];
  const unread: Pending[] = [];
  parts.forEach((part, index) => {
    const keys = scriptKeys(table, part.entries);
    if (!keys) return;
    // Forget the cached value unless this attempt succeeds: any failure re-reads the marker.
    const cached = cache.get(part.markerKey);
    cache.delete(part.markerKey);
    const p: Pending = { index, part, keys, fresh: cached === undefined };
    if (cached === undefined) unread.push(p);
    else p.marker = cached;
    pending.push(p);
  });
  if (pending.length === 0) return out;

  if (unread.length > 0) {
    const gets = unread.map((p) => [GET, p.part.markerKey]);
    const replies = await connection.sendEncoded(encodeCommands(gets), gets.length);
    unread.forEach((p, i) => {
      const reply = replies[i]!;
      if (reply.ok) p.marker = decodeMarker(reply.value as Buffer | null);
      else fail(p, reply.error);
    });
    pending = pending.filter((p) => p.marker !== undefined);
  }

  const frames: Array<Array<Buffer | string | number>> = [];
  const sent: Pending[] = [];
  for (const p of pending) {
    const marker = p.marker ?? null;
    const todo = pendingEntries(p.part.entries, marker, floor);
    if (todo.length === 0) {
      if (p.fresh) cache.set(p.part.markerKey, marker);
      out[p.index] = {
        kind: "applied",
        result: { applied: 0, positions: [], skipped: p.part.entries.length, errors: [] },
      };
      continue;
    }
    // Replays only: declare just the keys of what still runs.
    const keys = todo === p.part.entries ? p.keys : (scriptKeys(table, todo) ?? p.keys);
    p.todo = todo;
    p.next = stateAt(todo[todo.length - 1]!.pos, 0);
    p.args = applyScriptArgs(
      p.part.markerKey,
      keys,
      marker ? encodeMarker(marker) : "",
      encodeMarker(p.next),
      todo,
    );
    frames.push(p.args);
    sent.push(p);
  }
  if (sent.length === 0) return out;

  let replies = await connection.sendEncoded(encodeCommands(frames), frames.length);
  let round = sent;
  for (let attempt = 0; ; attempt++) {
    const missing: Pending[] = [];
    round.forEach((p, i) => {
      const reply = replies[i]!;
      if (!reply.ok && isNoScript(reply.error) && attempt === 0) missing.push(p);
      else settlePart(p, reply, out, cache, fail);
    });
    if (missing.length === 0) return out;
    // The script never ran for these: load it and send them again, in one write.
    const load = await connection.sendEncoded(
      encodeCommands([LOAD_APPLY_SCRIPT, ...missing.map((p) => p.args!)]),
      missing.length + 1,
    );
    replies = load.slice(1);
    round = missing;
  }
}

function settlePart(
  p: Pending,
  reply: Settled,
  out: FirstAttempt[],
  cache: MarkerCache,
  fail: (p: Pending, error: unknown) => void,
): void {
  if (!reply.ok) {
    // Still NOSCRIPT after SCRIPT LOAD (a flush in between): the per-part path sends EVAL.
    if (isNoScript(reply.error)) out[p.index] = UNTRIED;
    else fail(p, reply.error);
    return;
  }
  const refused = scriptErrors(reply.value);
  if (refused === null) {
    fail(p, new WatchAborted());
    return;
  }
  cache.set(p.part.markerKey, p.next!);
  out[p.index] = { kind: "applied", result: scriptPartResult(p.todo!, p.part.entries.length, refused) };
}

const GET = Buffer.from("GET");

/**
 * Failures that are not the server's reply (reset, reply timeout, connect refused) read as a lost
 * link to clusterRoute.classify, which retries those and drops the node's client: a link that
 * failed mid-write may have run some scripts, so only the marker can tell.
 */
function asLinkError(error: unknown): unknown {
  if (isReplyError(error) || error instanceof WatchAborted || error instanceof FatalError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new Error(`Connection is closed (${detail})`, { cause: error });
}

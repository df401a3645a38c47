/**
 * One slot's part of a batch, applied exactly once on the node that owns the slot:
 *   GET <slot marker>        (only when not cached) → drop entries already applied (slot marker or shard floor)
 *   [ASKING] WATCH <slot marker>
 *   [ASKING] EVAL <guard> 1 <slot marker> <expected>
 *   [ASKING] MULTI, <commands…>, SET <slot marker> <last position>, EXEC
 * The guard (shared with the standalone writer, see transaction.ts) touches the marker when it is
 * not the value the entries were filtered against, which aborts this client's own EXEC: so the
 * cached marker needs no GET round trip, and a marker moved before WATCH cannot slip through.
 * The WATCH…EXEC block is written in one tick on the node's single connection, so parts of other
 * slots never interleave with it (ioredis writes commands in call order; replies pipeline). ASKING
 * is repeated before MULTI because its flag survives only one command — or a whole transaction
 * (server.c resetClient keeps CLIENT_ASKING while CLIENT_MULTI is set).
 */
import type { Redis } from "ioredis";
import { slotTag } from "../cluster/slots.ts";
import type { CommandTable } from "../commands/table.ts";
import { commandName } from "./clusterKeys.ts";
import type { Entry, Position } from "./clusterPlan.ts";
import { classify, fatalCommand } from "./clusterRoute.ts";
import { runApplyScript, type ScriptErrors, scriptKeys } from "./clusterScript.ts";
import { decodeMarker, encodeMarker, isApplied } from "./marker.ts";
import { GUARD_SCRIPT } from "./transaction.ts";
import type { MarkerState } from "./types.ts";

export interface PartResult {
  applied: number;
  /** Entries applied (split commands share one position object across their slot parts). */
  done: readonly Entry[];
  skipped: number;
  /** Commands that ran but failed on the target (WRONGTYPE…), for the caller to log. */
  errors: string[];
}

/** `__ferry:{<tag>}<job>:<shard>`: the hash tag pins the marker into the slot it guards. */
export function slotMarkerKey(prefix: string, job: string, shard: string, slot: number): string {
  return `${prefix}{${slotTag(slot)}}${job}:${shard}`;
}

export function stateAt(pos: Position, db: number): MarkerState {
  return pos.seq === undefined
    ? { replid: pos.replid, offset: pos.offset, db }
    : { replid: pos.replid, offset: pos.offset, seq: pos.seq, db };
}

/** Replies before the first command: WATCH, EVAL guard, MULTI. */
const QUEUE_HEAD = 3;

/** Retryable marker: the watched slot marker changed under us (another writer); re-read and retry. */
export class WatchAborted extends Error {
  constructor() {
    super("TRYAGAIN slot marker changed during apply");
  }
}

/** Slot marker values as last read or written by this writer, by marker key. */
export type MarkerCache = Map<string, MarkerState | null>;

export async function applyPart(
  client: Redis,
  asking: boolean,
  markerKey: string,
  entries: readonly Entry[],
  floor: MarkerState | null,
  cache: MarkerCache,
  /** The target's command table: parts whose commands all allow it go through one script. */
  table?: CommandTable,
): Promise<PartResult> {
  const ask = (): void => {
    if (asking) void client.call("ASKING").catch(() => {});
  };
  // Forget the cached value unless this attempt succeeds: any failure re-reads the marker.
  const cached = cache.get(markerKey);
  cache.delete(markerKey);
  let slotMarker: MarkerState | null;
  if (cached !== undefined) slotMarker = cached;
  else {
    ask();
    slotMarker = decodeMarker((await client.getBuffer(markerKey)) as Buffer | null);
  }
  const todo = pendingEntries(entries, slotMarker, floor);
  if (todo.length === 0) {
    if (cached === undefined) cache.set(markerKey, slotMarker);
    return { applied: 0, done: [], skipped: entries.length, errors: [] };
  }
  const last = todo[todo.length - 1]!;
  const keys = table ? scriptKeys(table, todo) : null;
  if (keys) return applyByScript(client, asking, markerKey, keys, slotMarker, todo, entries.length, cache);

  // Everything below is written synchronously: one contiguous block on the connection.
  const queued: Array<Promise<unknown>> = [];
  const send = (argv: ReadonlyArray<Buffer | string>): Promise<unknown> => {
    const [name, ...args] = argv;
    const reply = client.callBuffer(String(name), ...args);
    queued.push(reply);
    return reply;
  };
  const next = stateAt(last.pos, 0);
  ask();
  send(["WATCH", markerKey]);
  ask();
  send(["EVAL", GUARD_SCRIPT, "1", markerKey, slotMarker ? encodeMarker(slotMarker) : ""]);
  ask();
  send(["MULTI"]);
  for (const entry of todo) send(entry.argv);
  send(["SET", markerKey, encodeMarker(next)]);
  const exec = client.callBuffer("EXEC");
  const settled = await Promise.allSettled(queued);
  let result: unknown;
  try {
    result = await exec;
  } catch (err) {
    // EXECABORT: a queued command was refused; its own reply says why (MOVED, ASK, CROSSSLOT…).
    const refused = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    const cause = refused ? refused.reason : err;
    if (classify(cause).kind !== "fatal") throw cause;
    const index = settled.indexOf(refused as PromiseSettledResult<unknown>) - QUEUE_HEAD;
    const argv = index >= 0 && index < todo.length ? todo[index]!.argv : [Buffer.from("EXEC")];
    throw fatalCommand(commandName(argv), cause);
  }
  if (result === null) throw new WatchAborted();
  cache.set(markerKey, next);
  const errors: string[] = [];
  if (Array.isArray(result)) {
    result.forEach((reply, i) => {
      if (reply instanceof Error && i < todo.length) {
        errors.push(`${commandName(todo[i]!.argv).toUpperCase()}: ${reply.message}`);
      }
    });
  }
  return {
    applied: todo.length,
    done: todo,
    skipped: entries.length - todo.length,
    errors,
  };
}

async function applyByScript(
  client: Redis,
  asking: boolean,
  markerKey: string,
  keys: Buffer[],
  slotMarker: MarkerState | null,
  todo: readonly Entry[],
  total: number,
  cache: MarkerCache,
): Promise<PartResult> {
  const next = stateAt(todo[todo.length - 1]!.pos, 0);
  const refused = await runApplyScript(
    client,
    asking,
    markerKey,
    keys,
    slotMarker ? encodeMarker(slotMarker) : "",
    encodeMarker(next),
    todo,
  );
  if (refused === null) throw new WatchAborted();
  cache.set(markerKey, next);
  return scriptPartResult(todo, total, refused);
}

/** A part applied by the script: `refused` are the commands the target refused inside it. */
export function scriptPartResult(todo: readonly Entry[], total: number, refused: ScriptErrors): PartResult {
  return {
    applied: todo.length,
    done: todo,
    skipped: total - todo.length,
    errors: refused.map((e) => `${commandName(todo[e.index]?.argv ?? []).toUpperCase()}: ${e.message}`),
  };
}

/** Entries the slot marker and the shard floor do not cover yet. */
export function pendingEntries(
  entries: readonly Entry[],
  slotMarker: MarkerState | null,
  floor: MarkerState | null,
): readonly Entry[] {
  // Nothing can be covered without a marker of this history: keep the array (the common case).
  if (!slotMarker && !floor) return entries;
  return entries.filter((e) => !isApplied(slotMarker, e.pos) && !isApplied(floor, e.pos));
}

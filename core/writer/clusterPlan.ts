/**
 * Turns a batch into steps a cluster target can execute: runs of per-slot parts (applied in
 * parallel, one MULTI per slot), broken by barriers that need everything before them applied
 * first — keyless commands that go to every master (FLUSHALL…) and emulated cross-slot moves.
 * Pure: no I/O, so the split rules are testable on their own.
 */

import { slotOf } from "../cluster/slots.ts";
import { FatalError } from "../errors.ts";
import type { Batch, Command } from "../model.ts";
import { commandName, routeBy } from "./clusterKeys.ts";
import { MOVE_RULES, type MoveRule } from "./clusterMoves.ts";

export interface Position {
  replid: string;
  offset: number;
  seq?: number;
}

export interface Entry {
  argv: Buffer[];
  pos: Position;
  /** argv's key indexes from the command table, when it knows them (saves a second lookup). */
  keys?: readonly number[];
  /** One slot's share of a split source command: several entries share its `pos`. */
  split?: true;
}

export type Step =
  | { kind: "parts"; parts: Map<number, Entry[]> }
  | { kind: "broadcast"; entry: Entry }
  | {
      kind: "move";
      entry: Entry;
      rule: MoveRule;
      src: Buffer;
      dst: Buffer;
      srcSlot: number;
      dstSlot: number;
    };

/** Keyless commands every master must run. */
const BROADCAST = new Set(["flushall", "flushdb", "function", "script"]);
/** Keyless commands with no meaning on a cluster target (one db). */
const INVALID = new Set(["swapdb", "select", "move"]);
/** Keys are independent: split into one command per slot holding that slot's keys. */
const SPLIT_KEYS = new Set(["del", "unlink", "exists", "touch"]);
/** Key/value pairs. MSETNX split per slot loses cross-slot atomicity — sound for a replayed stream
 * because the source only propagates an MSETNX that set every key, i.e. none existed. */
const SPLIT_PAIRS = new Set(["mset", "msetnx"]);
const b = (s: string): Buffer => Buffer.from(s);

export function positionOf(batch: Batch, command: Command): Position {
  return command.seq === undefined
    ? { replid: batch.replid, offset: command.offset }
    : { replid: batch.replid, offset: command.offset, seq: command.seq };
}

export function planBatch(batch: Batch, keyIndexes: (argv: Buffer[]) => number[] | null): Step[] {
  const steps: Step[] = [];
  let parts = new Map<number, Entry[]>();
  const add = (slot: number, entry: Entry): void => {
    const list = parts.get(slot);
    if (list) list.push(entry);
    else parts.set(slot, [entry]);
  };
  const barrier = (step: Step): void => {
    if (parts.size > 0) steps.push({ kind: "parts", parts });
    parts = new Map();
    steps.push(step);
  };

  for (const command of batch.commands) {
    const { argv } = command;
    const name = commandName(argv);
    if (command.db !== 0) {
      throw new FatalError(
        `command ${name.toUpperCase()} at offset ${command.offset} of shard ${batch.shard} is in source db ${command.db}, but a cluster target has only db 0`,
        `map the source db to 0 with --db-map ${command.db}:0 (or filter that db out)`,
      );
    }
    const known = keyIndexes(argv);
    const entry: Entry = known
      ? { argv, pos: positionOf(batch, command), keys: known }
      : { argv, pos: positionOf(batch, command) };
    if (BROADCAST.has(name)) {
      barrier({ kind: "broadcast", entry });
      continue;
    }
    if (INVALID.has(name)) {
      throw new FatalError(
        `${name.toUpperCase()} at offset ${command.offset} of shard ${batch.shard} cannot be applied on a cluster target (it has only db 0)`,
        "map every source db to 0 with --db-map and avoid SWAPDB/MOVE on the source during the migration",
      );
    }
    const keys = routeBy(argv, known);
    if (keys.length === 0) {
      // Keyless (PUBLISH is keyed by its channel via the key specs): any node will do; slot 0 gives it a marker.
      add(0, entry);
      continue;
    }
    const first = oneSlot(argv, keys);
    if (first >= 0) {
      add(first, entry);
      continue;
    }
    const slots = keys.map((i) => slotOf(argv[i]!));
    if (SPLIT_KEYS.has(name) || SPLIT_PAIRS.has(name)) {
      const width = SPLIT_PAIRS.has(name) ? 2 : 1;
      const bySlot = new Map<number, Buffer[]>();
      keys.forEach((keyIndex, i) => {
        const slot = slots[i]!;
        let args = bySlot.get(slot);
        if (!args) {
          args = [argv[0]!];
          bySlot.set(slot, args);
        }
        args.push(...argv.slice(keyIndex, keyIndex + width));
      });
      for (const [slot, args] of bySlot) add(slot, { argv: args, pos: entry.pos, split: true });
      continue;
    }
    if (name === "smove") {
      // SMOVE src dst member ≡ SREM src member + SADD dst member; no read needed.
      add(slots[0]!, { argv: [b("SREM"), argv[1]!, argv[3]!], pos: entry.pos, split: true });
      add(slots[1]!, { argv: [b("SADD"), argv[2]!, argv[3]!], pos: entry.pos, split: true });
      continue;
    }
    const rule = MOVE_RULES[name];
    if (rule && keys.length === 2 && !argv.some((a) => a.toString("latin1").toUpperCase() === "DB")) {
      barrier({
        kind: "move",
        entry,
        rule,
        src: argv[keys[0]!]!,
        dst: argv[keys[1]!]!,
        srcSlot: slots[0]!,
        dstSlot: slots[1]!,
      });
      continue;
    }
    throw new FatalError(
      `${name.toUpperCase()} at offset ${command.offset} of shard ${batch.shard} touches keys in different slots of the cluster target (${keys
        .map((i, n) => `${printable(argv[i]!)}→${slots[n]}`)
        .join(", ")}) and cannot be split or emulated`,
      "use hash tags so related keys share a slot on the source, or migrate to a standalone target",
    );
  }
  if (parts.size > 0) steps.push({ kind: "parts", parts });
  return steps;
}

/** The slot all of argv's keys hash to, or -1 when they span slots (no array for the common case). */
function oneSlot(argv: readonly Buffer[], keys: readonly number[]): number {
  const slot = slotOf(argv[keys[0]!]!);
  for (let i = 1; i < keys.length; i++) if (slotOf(argv[keys[i]!]!) !== slot) return -1;
  return slot;
}

function printable(key: Buffer): string {
  const text = key.toString("utf8");
  return /^[\x20-\x7e]*$/.test(text) && text.length <= 64
    ? JSON.stringify(text)
    : `0x${key.toString("hex").slice(0, 64)}`;
}

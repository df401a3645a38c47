/**
 * The stream side of the filters: drop by name, map the db, keep or drop by keys, and rewrite a
 * multi-key command to its allowed keys only when that keeps its meaning on the allowed keys.
 */

import type { CommandTable } from "../commands/table.ts";
import { keyIndexes } from "../commands/table.ts";
import type { Command } from "../model.ts";
import { dropRaw } from "../resp/raw.ts";
import { COMMAND_VALUE_TYPE } from "./command-types.ts";
import type { DropReason, KeyRules } from "./filter.ts";

export type FilterResult =
  | { kind: "keep"; command: Command; trimmed: boolean; unknown: boolean }
  | { kind: "drop"; reason: DropReason; name: string };

export interface CommandFilterContext {
  rules: KeyRules;
  /** Upper-case names, `NAME SUB` for a subcommand. */
  dropped: ReadonlySet<string>;
  mapDb(db: number): number | null;
  renameKey(key: Buffer): Buffer;
  renames: boolean;
}

type Trim = (argv: readonly Buffer[], idx: readonly number[], allowed: readonly boolean[]) => Buffer[] | null;

const keepAllowedKeys: Trim = (argv, idx, allowed) => [
  argv[0]!,
  ...idx.filter((_, n) => allowed[n]).map((i) => argv[i]!),
];

/**
 * Multi-key commands that still mean the same on a subset of their keys. Absent: the command is
 * dropped (counted as "partial") when only some of its keys are allowed — e.g. SUNIONSTORE whose
 * source is filtered out cannot be computed on the target.
 */
const TRIMS: Readonly<Record<string, Trim>> = {
  // Each key is independent.
  DEL: keepAllowedKeys,
  UNLINK: keepAllowedKeys,
  EXISTS: keepAllowedKeys,
  TOUCH: keepAllowedKeys,
  // Key/value pairs are independent. MSETNX is only propagated when it set every key (the source
  // stream carries effects), so its allowed keys were all absent and it may keep its name.
  MSET: (argv, idx, allowed) => [
    argv[0]!,
    ...idx.flatMap((i, n) => (allowed[n] ? [argv[i]!, argv[i + 1]!] : [])),
  ],
  MSETNX: (argv, idx, allowed) => [
    argv[0]!,
    ...idx.flatMap((i, n) => (allowed[n] ? [argv[i]!, argv[i + 1]!] : [])),
  ],
  // Renamed to a key we do not copy: for the copied keys, the source key just disappears.
  RENAME: (argv, _idx, allowed) => (allowed[0] && !allowed[1] ? [Buffer.from("DEL"), argv[1]!] : null),
  RENAMENX: (argv, _idx, allowed) => (allowed[0] && !allowed[1] ? [Buffer.from("DEL"), argv[1]!] : null),
};

function upper(arg: Buffer | undefined): string {
  return arg === undefined ? "" : arg.toString("latin1").toUpperCase();
}

export function filterCommand(cmd: Command, table: CommandTable, ctx: CommandFilterContext): FilterResult {
  const name = upper(cmd.argv[0]);
  const withSub = cmd.argv.length > 1 ? `${name} ${upper(cmd.argv[1])}` : name;
  if (ctx.dropped.has(name)) return { kind: "drop", reason: "command", name };
  if (ctx.dropped.has(withSub)) return { kind: "drop", reason: "command", name: withSub };

  const db = ctx.mapDb(cmd.db);
  if (db === null) return { kind: "drop", reason: "db", name };
  if (!ctx.rules.typeAllowed(COMMAND_VALUE_TYPE.get(name.toLowerCase())))
    return { kind: "drop", reason: "type", name };

  let argv = cmd.argv;
  let idx = keyIndexes(table, argv);
  if (idx === null) return { kind: "keep", command: { ...cmd, argv, db }, trimmed: false, unknown: true };

  let trimmed = false;
  if (idx.length > 0) {
    const allowed = idx.map((i) => ctx.rules.keyMatches(argv[i]!));
    const count = allowed.filter(Boolean).length;
    if (count === 0) return { kind: "drop", reason: "keys", name };
    if (count < idx.length) {
      const rewritten = TRIMS[name]?.(argv, idx, allowed) ?? null;
      if (!rewritten) return { kind: "drop", reason: "partial", name };
      argv = rewritten;
      idx = keyIndexes(table, argv) ?? [];
      trimmed = true;
    }
  }

  const crossDb = mapCrossDb(argv, ctx);
  if (crossDb === "drop") return { kind: "drop", reason: "db", name };
  argv = crossDb;

  if (ctx.renames && idx.length > 0) {
    argv = [...argv];
    for (const i of idx) argv[i] = ctx.renameKey(argv[i]!);
  }
  const command: Command = { ...cmd, argv, db };
  // The source's encoding no longer matches a rewritten argv (core/resp/raw.ts).
  if (argv !== cmd.argv) dropRaw(command);
  return { kind: "keep", command, trimmed, unknown: false };
}

/**
 * MOVE and COPY … DB name a second db in their arguments: map it like the command's own db. A MOVE
 * into a db we do not copy is, for the copied db, a deletion; a COPY into one changes nothing we copy.
 */
function mapCrossDb(argv: Buffer[], ctx: CommandFilterContext): Buffer[] | "drop" {
  const name = upper(argv[0]);
  if (name === "MOVE" && argv.length === 3) {
    const to = ctx.mapDb(Number(argv[2]!.toString("latin1")));
    if (to === null) return [Buffer.from("DEL"), argv[1]!];
    return [argv[0]!, argv[1]!, Buffer.from(String(to))];
  }
  if (name === "COPY") {
    for (let i = 3; i + 1 < argv.length; i++) {
      if (upper(argv[i]) !== "DB") continue;
      const to = ctx.mapDb(Number(argv[i + 1]!.toString("latin1")));
      if (to === null) return "drop";
      const out = [...argv];
      out[i + 1] = Buffer.from(String(to));
      return out;
    }
  }
  return argv;
}

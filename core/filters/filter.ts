/**
 * compileFilter(spec): the one filter every reader (snapshot, stream, scan) applies before batching.
 * Keys are judged on their SOURCE name and db; renaming and db mapping happen after.
 */
import type { CommandTable } from "../commands/table.ts";
import type { Command } from "../model.ts";
import type { RdbValueType } from "../rdb/types.ts";
import { CommandNames } from "../resp/names.ts";
import { lookupCommandName } from "../resp/streamCommand.ts";
import { filterCommand } from "./commands.ts";
import { compileGlob } from "./glob.ts";
import { DEFAULT_DROPPED_COMMANDS, type FilterSpec, FLUSH_COMMANDS } from "./spec.ts";

export type DropReason = "command" | "db" | "keys" | "partial" | "type";

export interface FilterCounters {
  /** Snapshot keys refused by keyAllowed(). */
  filteredKeys: number;
  /** Stream commands dropped, by reason. */
  filteredCommands: Record<DropReason, number>;
  /** Stream commands dropped by name (FLUSHALL, CONFIG…), upper case. */
  droppedByName: Record<string, number>;
  /** Multi-key commands rewritten to keep only their allowed keys. */
  trimmedCommands: number;
  /** Commands whose keys the command table does not know: passed through unfiltered (only looked up when a rule needs keys). */
  unknownCommands: number;
}

export interface DropEvent {
  reason: DropReason;
  /** Upper-case command name (with subcommand for SCRIPT FLUSH and the like). */
  command: string;
  db: number;
}

export interface FilterOptions {
  /**
   * Called the first time a (reason, command) pair is dropped, so the caller logs one clear line
   * ("dropping FLUSHALL from the source: pass --keep-flush to apply it") rather than one per command.
   */
  onFirstDrop?: (event: DropEvent) => void;
}

export interface Filter {
  readonly spec: FilterSpec;
  readonly counters: FilterCounters;
  /** No key, db or type rule: every key passes (rename and db map may still apply). */
  readonly allKeys: boolean;
  /** Is this source key copied? `type` when known (snapshot). Counts refusals in filteredKeys. */
  keyAllowed(db: number, key: Buffer, type?: RdbValueType): boolean;
  /** Target db for a source db, or null when the db is filtered out. */
  mapDb(db: number): number | null;
  /** The key's name on the target (renamePrefixes), the same Buffer when no rule matches. */
  renameKey(key: Buffer): Buffer;
  /**
   * A stream command as it should reach the target (db mapped, keys renamed, filtered keys removed
   * where that keeps its meaning), or null when it is dropped (counted, see counters).
   */
  command(cmd: Command, table: CommandTable): Command | null;
}

/** Key test without counting, shared by keyAllowed and the command filter. */
export interface KeyRules {
  dbAllowed(db: number): boolean;
  keyMatches(key: Buffer): boolean;
  typeAllowed(type: RdbValueType | undefined): boolean;
}

function prefixTest(prefix: string): (key: Buffer) => boolean {
  const bytes = Buffer.from(prefix, "utf8");
  return (key) => key.length >= bytes.length && key.subarray(0, bytes.length).equals(bytes);
}

function regexTest(source: string): (key: Buffer) => boolean {
  const re = new RegExp(source, "u");
  return (key) => re.test(key.toString("utf8"));
}

function anyOf(tests: ((key: Buffer) => boolean)[]): ((key: Buffer) => boolean) | null {
  return tests.length === 0 ? null : (key) => tests.some((t) => t(key));
}

export function compileKeyRules(spec: FilterSpec): KeyRules & { trivial: boolean } {
  const include = anyOf([
    ...(spec.includePrefixes ?? []).map(prefixTest),
    ...(spec.includeGlobs ?? []).map(compileGlob),
    ...(spec.includeRegexes ?? []).map(regexTest),
  ]);
  const exclude = anyOf([
    ...(spec.excludePrefixes ?? []).map(prefixTest),
    ...(spec.excludeGlobs ?? []).map(compileGlob),
    ...(spec.excludeRegexes ?? []).map(regexTest),
  ]);
  const includeDbs = spec.includeDbs?.length ? new Set(spec.includeDbs) : null;
  const excludeDbs = new Set(spec.excludeDbs ?? []);
  const includeTypes = spec.includeTypes?.length ? new Set<string>(spec.includeTypes) : null;
  const excludeTypes = new Set<string>(spec.excludeTypes ?? []);
  return {
    trivial:
      !include &&
      !exclude &&
      !includeDbs &&
      excludeDbs.size === 0 &&
      !includeTypes &&
      excludeTypes.size === 0,
    dbAllowed: (db) => (!includeDbs || includeDbs.has(db)) && !excludeDbs.has(db),
    keyMatches: (key) => (!include || include(key)) && !(exclude?.(key) ?? false),
    // An unknown type (a stream command on any type) is not judged by type rules.
    typeAllowed: (type) =>
      type === undefined || ((!includeTypes || includeTypes.has(type)) && !excludeTypes.has(type)),
  };
}

export function compileFilter(spec: FilterSpec, opts: FilterOptions = {}): Filter {
  const rules = compileKeyRules(spec);
  const dbMap = new Map(Object.entries(spec.dbMap ?? {}).map(([from, to]) => [Number(from), to] as const));
  const renames = (spec.renamePrefixes ?? []).map((r) => ({
    from: Buffer.from(r.from, "utf8"),
    to: Buffer.from(r.to, "utf8"),
  }));
  const dropped = new Set<string>([
    ...DEFAULT_DROPPED_COMMANDS,
    ...(spec.dropCommands ?? []).map((c) => c.toUpperCase()),
  ]);
  if (spec.keepFlush) for (const name of FLUSH_COMMANDS) dropped.delete(name);

  const counters: FilterCounters = {
    filteredKeys: 0,
    filteredCommands: { command: 0, db: 0, keys: 0, partial: 0, type: 0 },
    droppedByName: {},
    trimmedCommands: 0,
    unknownCommands: 0,
  };
  const seen = new Set<string>();
  // No key, db or type rule, no db map, no rename: a stream command reaches the target untouched
  // unless it is dropped by name. That is one lookup on argv[0]'s bytes (first words of the dropped
  // names; a hit takes the full path, which also judges `SCRIPT FLUSH` against `SCRIPT LOAD`),
  // instead of decoding the name, the subcommand and the key specs of every command.
  const passThrough = rules.trivial && dbMap.size === 0 && renames.length === 0;
  const droppedFirstWords = new CommandNames(
    [...dropped].map((name) => [name.split(" ")[0]!, true] as const),
  );

  const mapDb = (db: number): number | null => (rules.dbAllowed(db) ? (dbMap.get(db) ?? db) : null);
  const renameKey = (key: Buffer): Buffer => {
    for (const r of renames) {
      if (key.length >= r.from.length && key.subarray(0, r.from.length).equals(r.from)) {
        return Buffer.concat([r.to, key.subarray(r.from.length)]);
      }
    }
    return key;
  };

  const filter: Filter = {
    spec,
    counters,
    allKeys: rules.trivial,
    keyAllowed(db, key, type) {
      const ok = rules.dbAllowed(db) && rules.keyMatches(key) && rules.typeAllowed(type);
      if (!ok) counters.filteredKeys++;
      return ok;
    },
    mapDb,
    renameKey,
    command(cmd, table) {
      if (passThrough && lookupCommandName(droppedFirstWords, cmd) === undefined) return cmd;
      const result = filterCommand(cmd, table, {
        rules,
        dropped,
        mapDb,
        renameKey,
        renames: renames.length > 0,
      });
      if (result.kind === "keep") {
        if (result.trimmed) counters.trimmedCommands++;
        if (result.unknown) counters.unknownCommands++;
        return result.command;
      }
      counters.filteredCommands[result.reason]++;
      if (result.reason === "command")
        counters.droppedByName[result.name] = (counters.droppedByName[result.name] ?? 0) + 1;
      const once = `${result.reason}:${result.name}`;
      if (!seen.has(once)) {
        seen.add(once);
        opts.onFirstDrop?.({ reason: result.reason, command: result.name, db: cmd.db });
      }
      return null;
    },
  };
  return filter;
}

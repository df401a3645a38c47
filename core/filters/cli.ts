/**
 * CLI flags → FilterSpec (validated by the same schema as the API and the config file).
 *
 *   --filter-prefix user:       (repeatable)     --exclude-prefix tmp:
 *   --filter-glob 'user:*'      --exclude-glob   --filter-regex '^a.*z$'   --exclude-regex
 *   --filter-db 0,3             --exclude-db 2   --filter-type hash,zset   --exclude-type stream
 *   --db-map 0:0,3:1            --rename-prefix 'old:→new:' (also 'old:=>new:')
 *   --drop-command PUBLISH,'SCRIPT LOAD'         --keep-flush
 */
import { BadInputError } from "../errors.ts";
import { type FilterSpec, FilterSpecSchema } from "./spec.ts";

export interface FilterArgs {
  filterPrefix?: string[];
  excludePrefix?: string[];
  filterGlob?: string[];
  excludeGlob?: string[];
  filterRegex?: string[];
  excludeRegex?: string[];
  filterDb?: string[];
  excludeDb?: string[];
  filterType?: string[];
  excludeType?: string[];
  dbMap?: string[];
  renamePrefix?: string[];
  dropCommand?: string[];
  keepFlush?: boolean;
}

/** Comma-separated lists may also be given as repeated flags. */
function list(values: string[] | undefined): string[] | undefined {
  if (!values?.length) return undefined;
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function dbNumber(text: string, flag: string): number {
  if (!/^\d+$/.test(text))
    throw new BadInputError(`${flag}: "${text}" is not a db number`, `give dbs as numbers, e.g. ${flag} 0,3`);
  return Number(text);
}

function parseDbMap(values: string[]): Record<string, number> {
  const map: Record<string, number> = {};
  for (const pair of list(values) ?? []) {
    const match = /^(\d+):(\d+)$/.exec(pair);
    if (!match)
      throw new BadInputError(
        `--db-map: "${pair}" is not source:target`,
        "write pairs like --db-map 0:0,3:1",
      );
    const from = match[1]!;
    if (from in map)
      throw new BadInputError(`--db-map: db ${from} is mapped twice`, "map each source db once");
    map[from] = Number(match[2]);
  }
  return map;
}

const RENAME_ARROWS = ["→", "=>"] as const;

function parseRename(value: string): { from: string; to: string } {
  for (const arrow of RENAME_ARROWS) {
    const at = value.indexOf(arrow);
    if (at > 0) return { from: value.slice(0, at), to: value.slice(at + arrow.length) };
  }
  throw new BadInputError(
    `--rename-prefix: "${value}" has no "→" or "=>"`,
    "write --rename-prefix 'old:=>new:'",
  );
}

export function parseFilterArgs(args: FilterArgs): FilterSpec {
  const raw: Record<string, unknown> = {
    includePrefixes: args.filterPrefix?.length ? args.filterPrefix : undefined,
    excludePrefixes: args.excludePrefix?.length ? args.excludePrefix : undefined,
    includeGlobs: args.filterGlob?.length ? args.filterGlob : undefined,
    excludeGlobs: args.excludeGlob?.length ? args.excludeGlob : undefined,
    includeRegexes: args.filterRegex?.length ? args.filterRegex : undefined,
    excludeRegexes: args.excludeRegex?.length ? args.excludeRegex : undefined,
    includeDbs: list(args.filterDb)?.map((d) => dbNumber(d, "--filter-db")),
    excludeDbs: list(args.excludeDb)?.map((d) => dbNumber(d, "--exclude-db")),
    includeTypes: list(args.filterType)?.map((t) => t.toLowerCase()),
    excludeTypes: list(args.excludeType)?.map((t) => t.toLowerCase()),
    dbMap: args.dbMap?.length ? parseDbMap(args.dbMap) : undefined,
    renamePrefixes: args.renamePrefix?.length ? args.renamePrefix.map(parseRename) : undefined,
    dropCommands: list(args.dropCommand),
    keepFlush: args.keepFlush || undefined,
  };
  const parsed = FilterSpecSchema.safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") ?? "";
    throw new BadInputError(
      `invalid filter option ${where}: ${issue?.message ?? "invalid"}`,
      "see docs/filters.md",
    );
  }
  return parsed.data;
}

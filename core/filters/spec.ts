/**
 * FilterSpec: which keys, dbs, types and commands a job copies, and how it renames dbs and keys.
 * One zod schema for the API, the config file and the CLI (whose flags parseFilterArgs turns into
 * this same object), so a filter means the same thing everywhere.
 */
import { z } from "zod";

export const VALUE_TYPES = ["string", "list", "set", "zset", "hash", "stream", "module"] as const;

const DB = z.number().int().min(0).max(65535);

const RegexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source, "u");
  } catch (err) {
    ctx.addIssue({ code: "custom", message: `invalid regular expression: ${(err as Error).message}` });
  }
});

const CommandName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_|-]*( [A-Za-z][A-Za-z0-9_-]*)?$/,
    "a command, or a command and subcommand (SCRIPT FLUSH)",
  );

export const FilterSpecSchema = z
  .strictObject({
    includeDbs: z.array(DB).optional().meta({ description: "copy only these source dbs" }),
    excludeDbs: z.array(DB).optional(),
    includePrefixes: z
      .array(z.string().min(1))
      .optional()
      .meta({ description: "copy only keys with one of these prefixes" }),
    excludePrefixes: z.array(z.string().min(1)).optional(),
    includeGlobs: z
      .array(z.string().min(1))
      .optional()
      .meta({
        description: "Redis glob patterns (as SCAN MATCH), matched on the key bytes",
        example: ["user:*"],
      }),
    excludeGlobs: z.array(z.string().min(1)).optional(),
    includeRegexes: z
      .array(RegexSource)
      .optional()
      .meta({ description: "JavaScript regular expressions, matched on the key decoded as UTF-8" }),
    excludeRegexes: z.array(RegexSource).optional(),
    includeTypes: z.array(z.enum(VALUE_TYPES)).optional(),
    excludeTypes: z.array(z.enum(VALUE_TYPES)).optional(),
    dropCommands: z
      .array(CommandName)
      .optional()
      .meta({
        description: "commands dropped from the stream, on top of the defaults",
        example: ["PUBLISH"],
      }),
    keepFlush: z
      .boolean()
      .optional()
      .meta({ description: "apply FLUSHALL/FLUSHDB from the source (dropped by default)" }),
    dbMap: z
      .record(z.string().regex(/^\d+$/, "source db numbers as keys"), DB)
      .optional()
      .meta({
        description: "source db → target db; dbs not listed keep their number",
        example: { "0": 0, "3": 1 },
      }),
    renamePrefixes: z
      .array(z.strictObject({ from: z.string().min(1), to: z.string() }))
      .optional()
      .meta({
        description: "rename keys by prefix; the first matching rule applies",
        example: [{ from: "old:", to: "new:" }],
      }),
  })
  .meta({ id: "FilterSpec" });

export type FilterSpec = z.infer<typeof FilterSpecSchema>;
export type ValueTypeName = (typeof VALUE_TYPES)[number];

/**
 * Dropped unless asked otherwise: commands that would wipe or reconfigure the target rather than
 * copy data. A source FLUSHALL applied to a target shared with other data is the classic disaster.
 */
export const DEFAULT_DROPPED_COMMANDS = [
  "FLUSHALL",
  "FLUSHDB",
  "SWAPDB",
  "CONFIG",
  "DEBUG",
  "SHUTDOWN",
  "SCRIPT FLUSH",
  "FUNCTION FLUSH",
  "SAVE",
  "BGSAVE",
  "BGREWRITEAOF",
  "REPLICAOF",
  "SLAVEOF",
  "ACL",
  "MODULE",
  "CLIENT",
  "CLUSTER",
  "FAILOVER",
] as const;

export const FLUSH_COMMANDS = ["FLUSHALL", "FLUSHDB"] as const;

/**
 * Where the keys of a command are: Redis 7's key specs (begin_search + find_keys), with the legacy
 * first/last/step range as a fallback for servers before 7.0. Evaluation follows db.c
 * getKeysUsingKeySpecs so that keyIndexes() agrees with `COMMAND GETKEYS` of the real server.
 */

/** Where the search for keys starts: a fixed argv index, or just after a keyword. */
export type BeginSearch =
  | { readonly index: number }
  /** startFrom > 0: search forward from that index; < 0: search backward from argc + startFrom. */
  | { readonly keyword: string; readonly startFrom: number };

/** How keys are found from the begin position. */
export type FindKeys =
  /** lastKey relative to begin (≥ 0), or from argc (< 0); with `limit` > 0, 1/limit of the remaining args. */
  | { readonly lastKey: number; readonly step: number; readonly limit: number }
  /** The number of keys is at begin + keyNumIdx; keys start at begin + firstKey. */
  | { readonly keyNumIdx: number; readonly firstKey: number; readonly step: number };

export interface KeySpec {
  readonly begin: BeginSearch;
  readonly find: FindKeys;
  /** A channel or the like declared as a key (SPUBLISH): not a key for us. */
  readonly notKey?: boolean;
  /** Redis could not describe all keys (SORT … STORE): a `getKeys` override completes it. */
  readonly incomplete?: boolean;
}

export interface CommandSpec {
  /** Lower case, `parent|sub` for subcommands (as COMMAND INFO names them). */
  readonly name: string;
  readonly arity: number;
  readonly flags: readonly string[];
  readonly keySpecs: readonly KeySpec[];
  readonly subcommands?: Readonly<Record<string, CommandSpec>>;
}

export interface CommandTable {
  /** By lower-case command name. */
  readonly commands: ReadonlyMap<string, CommandSpec>;
}

/**
 * Commands whose keys the specs cannot describe fully (Redis marks them INCOMPLETE and uses a C
 * getkeys_proc): their argv positions by hand.
 */
const GETKEYS_OVERRIDES: Readonly<Record<string, (argv: readonly Buffer[]) => number[] | null>> = {
  // SORT key [BY p] [LIMIT o c] [GET p …] [ASC|DESC] [ALPHA] [STORE dst]: skip option arguments, so a
  // GET pattern spelled "store" is not mistaken for the STORE keyword (sortGetKeys in db.c).
  sort: (argv) => {
    if (argv.length < 2) return null;
    const skip: Readonly<Record<string, number>> = { limit: 2, get: 1, by: 1 };
    let store = -1;
    for (let i = 2; i < argv.length; i++) {
      const word = argv[i]!.toString("latin1").toLowerCase();
      const n = skip[word];
      if (n !== undefined) i += n;
      else if (word === "store" && i + 1 < argv.length) store = i + 1;
    }
    return store > 0 ? [1, store] : [1];
  },
};

/** The spec that applies to argv: the subcommand's when the command has subcommands. */
export function lookupCommand(table: CommandTable, argv: readonly Buffer[]): CommandSpec | null {
  const name = argv[0]?.toString("latin1").toLowerCase();
  if (name === undefined) return null;
  const spec = table.commands.get(name);
  if (!spec) return null;
  if (spec.subcommands && argv.length > 1) {
    const sub = spec.subcommands[`${name}|${argv[1]!.toString("latin1").toLowerCase()}`];
    if (sub) return sub;
  }
  return spec;
}

/**
 * argv indexes of the keys of a command (argv[0] is the command name, any case), in the order Redis
 * reports them. Returns `[]` for a known command without keys, and `null` when the keys cannot be
 * known: an unknown command, or arguments malformed so that Redis itself would refuse them (a
 * numkeys that is not a number, fewer arguments than the arity). Callers decide what null means to
 * them (the filters pass such a command through unchanged and count it).
 */
export function keyIndexes(table: CommandTable, argv: readonly Buffer[]): number[] | null {
  const spec = lookupCommand(table, argv);
  if (!spec) return null;
  const argc = argv.length;
  if ((spec.arity > 0 && argc !== spec.arity) || (spec.arity < 0 && argc < -spec.arity)) return null;
  const override = GETKEYS_OVERRIDES[spec.name];
  if (override) return override(argv);
  const out: number[] = [];
  for (const ks of spec.keySpecs) {
    if (ks.notKey) continue;
    const found = evalKeySpec(ks, argv);
    if (found === null) return null;
    out.push(...found);
  }
  return out;
}

function evalKeySpec(ks: KeySpec, argv: readonly Buffer[]): number[] | null {
  const argc = argv.length;
  let first = 0;
  if ("index" in ks.begin) {
    first = ks.begin.index;
  } else {
    const { keyword, startFrom } = ks.begin;
    const start = startFrom > 0 ? startFrom : argc + startFrom;
    const end = startFrom > 0 ? argc - 1 : 1;
    const want = keyword.toLowerCase();
    // As in Redis, `end` itself is not searched: a keyword in the last position has no key after it.
    for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
      if (i >= argc || i < 1) break;
      if (argv[i]!.toString("latin1").toLowerCase() === want) {
        first = i + 1;
        break;
      }
    }
    // The keyword is optional (GEORADIUS … STORE): no keyword, no keys from this spec.
    if (first === 0) return [];
  }

  let last: number;
  let step: number;
  if ("keyNumIdx" in ks.find) {
    step = ks.find.step;
    const at = first + ks.find.keyNumIdx;
    if (at >= argc) return null;
    const text = argv[at]!.toString("latin1");
    if (!/^\d+$/.test(text)) return null;
    const numkeys = Number(text);
    first += ks.find.firstKey;
    last = first + numkeys - 1;
    // numkeys 0 is legal for EVAL/FCALL: no keys.
    if (numkeys === 0) return [];
  } else {
    step = ks.find.step;
    if (ks.find.lastKey >= 0) last = first + ks.find.lastKey;
    else if (!ks.find.limit) last = argc + ks.find.lastKey;
    else last = first + (Math.floor((argc - first) / ks.find.limit) + ks.find.lastKey);
  }
  if (last >= argc || last < first || first >= argc) return null;
  const out: number[] = [];
  for (let i = first; i <= last; i += step) out.push(i);
  return out;
}

/** Flags of a command (`write`, `admin`, `noscript`, …), lower case; [] for an unknown command. */
export function commandFlags(table: CommandTable, name: string): readonly string[] {
  const lower = name.toLowerCase();
  const [parent, sub] = lower.split(/[| ]/, 2);
  const spec = table.commands.get(parent ?? lower);
  if (!spec) return [];
  if (sub && spec.subcommands) return spec.subcommands[`${parent}|${sub}`]?.flags ?? spec.flags;
  return spec.flags;
}

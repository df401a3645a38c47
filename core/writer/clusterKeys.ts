/**
 * Key positions for routing commands to slots, used until core/commands (key positions from
 * COMMAND INFO key specs) is wired in through `ClusterWriterOptions.keyIndexes`. Legacy
 * (first, last, step) triples as COMMAND reports them; `numkeys` forms read the count from argv.
 * A command missing here is routed by argv[1]: if that is wrong the target itself refuses the
 * transaction (CROSSSLOT/MOVED inside MULTI), which surfaces as a FatalError naming the command.
 */
type Spec =
  | readonly [first: number, last: number, step: number]
  | { readonly numkeysAt: number; readonly before?: readonly number[] };

const ALL = [1, -1, 1] as const;
const ONE = [1, 1, 1] as const;
const TWO = [1, 2, 1] as const;
const NONE = [0, 0, 0] as const;

export const KEY_SPECS: Readonly<Record<string, Spec>> = {
  del: ALL,
  unlink: ALL,
  exists: ALL,
  touch: ALL,
  mget: ALL,
  watch: ALL,
  pfcount: ALL,
  pfmerge: ALL,
  sinterstore: ALL,
  sunionstore: ALL,
  sdiffstore: ALL,
  sinter: ALL,
  sunion: ALL,
  sdiff: ALL,
  mset: [1, -1, 2],
  msetnx: [1, -1, 2],
  rename: TWO,
  renamenx: TWO,
  copy: TWO,
  smove: TWO,
  lmove: TWO,
  blmove: TWO,
  rpoplpush: TWO,
  brpoplpush: TWO,
  zrangestore: TWO,
  georadius: ONE,
  bitop: [2, -1, 1],
  xgroup: [2, 2, 1],
  object: [2, 2, 1],
  zunionstore: { numkeysAt: 2, before: [1] },
  zinterstore: { numkeysAt: 2, before: [1] },
  zdiffstore: { numkeysAt: 2, before: [1] },
  lmpop: { numkeysAt: 1 },
  zmpop: { numkeysAt: 1 },
  sintercard: { numkeysAt: 1 },
  zintercard: { numkeysAt: 1 },
  eval: { numkeysAt: 2 },
  evalsha: { numkeysAt: 2 },
  eval_ro: { numkeysAt: 2 },
  fcall: { numkeysAt: 2 },
  fcall_ro: { numkeysAt: 2 },
  flushall: NONE,
  flushdb: NONE,
  swapdb: NONE,
  select: NONE,
  ping: NONE,
  multi: NONE,
  exec: NONE,
  function: NONE,
  script: NONE,
};

export function commandName(argv: readonly Buffer[]): string {
  return (argv[0]?.toString("latin1") ?? "").toLowerCase();
}

/** Indexes into argv of the command's keys (same contract as core/commands `keyIndexes`). */
export function fallbackKeyIndexes(argv: readonly Buffer[]): number[] {
  const spec = KEY_SPECS[commandName(argv)] ?? ONE;
  if (!Array.isArray(spec)) {
    const { numkeysAt, before = [] } = spec as { numkeysAt: number; before?: readonly number[] };
    const count = Number(argv[numkeysAt]?.toString() ?? "0");
    const keys = [...before];
    for (let i = 0; i < count && numkeysAt + 1 + i < argv.length; i++) keys.push(numkeysAt + 1 + i);
    return keys;
  }
  const [first, last, step] = spec as readonly [number, number, number];
  if (first === 0 || argv.length <= first) return [];
  const end = last < 0 ? argv.length + last : Math.min(last, argv.length - 1);
  const keys: number[] = [];
  for (let i = first; i <= end; i += step) keys.push(i);
  return keys;
}

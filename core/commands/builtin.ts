/**
 * Built-in command key table: the commands that appear in a replication stream (writes, plus the
 * few reads a scan-based reader uses), with key specs as Redis 7.0 declares them in its
 * src/commands/*.json. Used when the target predates COMMAND key specs (< 7.0) or COMMAND is blocked
 * (managed services), and as the base that loadCommandTable() overlays with the server's own table.
 */
import type { BeginSearch, CommandSpec, CommandTable, FindKeys, KeySpec } from "./table.ts";

const spec = (begin: BeginSearch, find: FindKeys): KeySpec => ({ begin, find });
/** One key at argv[i]. */
const at = (i: number): KeySpec => spec({ index: i }, { lastKey: 0, step: 1, limit: 0 });
/** Keys from argv[i] to argc + last (last < 0), every `step`. */
const from = (i: number, last = -1, step = 1): KeySpec =>
  spec({ index: i }, { lastKey: last, step, limit: 0 });
/** numkeys at argv[i], keys right after it. */
const numkeys = (i: number): KeySpec => spec({ index: i }, { keyNumIdx: 0, firstKey: 1, step: 1 });
/** One key right after an optional keyword, searched from argv[startFrom]. */
const after = (keyword: string, startFrom: number): KeySpec =>
  spec({ keyword, startFrom }, { lastKey: 0, step: 1, limit: 0 });

type Row = readonly [arity: number, flags: string, keys: readonly KeySpec[]];

const W = "write";
const A = "admin noscript";

/** name → [arity, space-separated flags, key specs]. Subcommands as `parent|sub`. */
const ROWS: Readonly<Record<string, Row>> = {
  // strings
  set: [-3, W, [at(1)]],
  setnx: [3, W, [at(1)]],
  setex: [4, W, [at(1)]],
  psetex: [4, W, [at(1)]],
  getset: [3, W, [at(1)]],
  getdel: [2, W, [at(1)]],
  getex: [-2, W, [at(1)]],
  append: [3, W, [at(1)]],
  setrange: [4, W, [at(1)]],
  incr: [2, W, [at(1)]],
  decr: [2, W, [at(1)]],
  incrby: [3, W, [at(1)]],
  decrby: [3, W, [at(1)]],
  incrbyfloat: [3, W, [at(1)]],
  mset: [-3, W, [from(1, -1, 2)]],
  msetnx: [-3, W, [from(1, -1, 2)]],
  setbit: [4, W, [at(1)]],
  bitfield: [-2, W, [at(1)]],
  bitop: [-4, W, [at(2), from(3)]],
  get: [2, "readonly", [at(1)]],
  mget: [-2, "readonly", [from(1)]],
  // generic
  del: [-2, W, [from(1)]],
  unlink: [-2, W, [from(1)]],
  exists: [-2, "readonly", [from(1)]],
  touch: [-2, "readonly", [from(1)]],
  type: [2, "readonly", [at(1)]],
  rename: [3, W, [at(1), at(2)]],
  renamenx: [3, W, [at(1), at(2)]],
  copy: [-3, W, [at(1), at(2)]],
  move: [3, W, [at(1)]],
  expire: [-3, W, [at(1)]],
  pexpire: [-3, W, [at(1)]],
  expireat: [-3, W, [at(1)]],
  pexpireat: [-3, W, [at(1)]],
  persist: [2, W, [at(1)]],
  restore: [-4, W, [at(1)]],
  "restore-asking": [-4, W, [at(1)]],
  dump: [2, "readonly", [at(1)]],
  sort: [-2, W, [at(1)]],
  object: [-2, "", []],
  "object|encoding": [3, "readonly", [at(2)]],
  "object|freq": [3, "readonly", [at(2)]],
  "object|idletime": [3, "readonly", [at(2)]],
  "object|refcount": [3, "readonly", [at(2)]],
  // lists
  lpush: [-3, W, [at(1)]],
  rpush: [-3, W, [at(1)]],
  lpushx: [-3, W, [at(1)]],
  rpushx: [-3, W, [at(1)]],
  linsert: [5, W, [at(1)]],
  lset: [4, W, [at(1)]],
  lrem: [4, W, [at(1)]],
  ltrim: [4, W, [at(1)]],
  lpop: [-2, W, [at(1)]],
  rpop: [-2, W, [at(1)]],
  rpoplpush: [3, W, [at(1), at(2)]],
  brpoplpush: [4, W, [at(1), at(2)]],
  lmove: [5, W, [at(1), at(2)]],
  blmove: [6, W, [at(1), at(2)]],
  lmpop: [-4, W, [numkeys(1)]],
  blmpop: [-5, W, [numkeys(2)]],
  blpop: [-3, W, [from(1, -2)]],
  brpop: [-3, W, [from(1, -2)]],
  // sets
  sadd: [-3, W, [at(1)]],
  srem: [-3, W, [at(1)]],
  spop: [-2, W, [at(1)]],
  smove: [4, W, [at(1), at(2)]],
  sinterstore: [-3, W, [at(1), from(2)]],
  sunionstore: [-3, W, [at(1), from(2)]],
  sdiffstore: [-3, W, [at(1), from(2)]],
  // sorted sets
  zadd: [-4, W, [at(1)]],
  zincrby: [4, W, [at(1)]],
  zrem: [-3, W, [at(1)]],
  zremrangebyscore: [4, W, [at(1)]],
  zremrangebyrank: [4, W, [at(1)]],
  zremrangebylex: [4, W, [at(1)]],
  zpopmin: [-2, W, [at(1)]],
  zpopmax: [-2, W, [at(1)]],
  bzpopmin: [-3, W, [from(1, -2)]],
  bzpopmax: [-3, W, [from(1, -2)]],
  zunionstore: [-4, W, [at(1), numkeys(2)]],
  zinterstore: [-4, W, [at(1), numkeys(2)]],
  zdiffstore: [-4, W, [at(1), numkeys(2)]],
  zrangestore: [-5, W, [at(1), at(2)]],
  zmpop: [-4, W, [numkeys(1)]],
  bzmpop: [-5, W, [numkeys(2)]],
  // hashes (HEXPIRE family: Redis 7.4)
  hset: [-4, W, [at(1)]],
  hsetnx: [4, W, [at(1)]],
  hmset: [-4, W, [at(1)]],
  hdel: [-3, W, [at(1)]],
  hincrby: [4, W, [at(1)]],
  hincrbyfloat: [4, W, [at(1)]],
  hexpire: [-6, W, [at(1)]],
  hpexpire: [-6, W, [at(1)]],
  hexpireat: [-6, W, [at(1)]],
  hpexpireat: [-6, W, [at(1)]],
  hpersist: [-5, W, [at(1)]],
  // streams
  xadd: [-5, W, [at(1)]],
  xdel: [-3, W, [at(1)]],
  xtrim: [-4, W, [at(1)]],
  xsetid: [-3, W, [at(1)]],
  xack: [-4, W, [at(1)]],
  xclaim: [-6, W, [at(1)]],
  xautoclaim: [-6, W, [at(1)]],
  xgroup: [-2, "", []],
  "xgroup|create": [-5, W, [at(2)]],
  "xgroup|setid": [-5, W, [at(2)]],
  "xgroup|destroy": [4, W, [at(2)]],
  "xgroup|createconsumer": [5, W, [at(2)]],
  "xgroup|delconsumer": [5, W, [at(2)]],
  xreadgroup: [-7, W, [spec({ keyword: "STREAMS", startFrom: 4 }, { lastKey: -1, step: 1, limit: 2 })]],
  xread: [-4, "readonly", [spec({ keyword: "STREAMS", startFrom: 1 }, { lastKey: -1, step: 1, limit: 2 })]],
  // hyperloglog, geo
  pfadd: [-2, W, [at(1)]],
  pfmerge: [-2, W, [at(1), from(2)]],
  pfcount: [-2, "readonly", [from(1)]],
  geoadd: [-5, W, [at(1)]],
  georadius: [-6, W, [at(1), after("STORE", 6), after("STOREDIST", 6)]],
  georadiusbymember: [-5, W, [at(1), after("STORE", 5), after("STOREDIST", 5)]],
  geosearchstore: [-8, W, [at(1), at(2)]],
  // scripting and functions: keys after numkeys
  eval: [-3, "noscript", [numkeys(2)]],
  evalsha: [-3, "noscript", [numkeys(2)]],
  eval_ro: [-3, "noscript readonly", [numkeys(2)]],
  evalsha_ro: [-3, "noscript readonly", [numkeys(2)]],
  fcall: [-3, "noscript", [numkeys(2)]],
  fcall_ro: [-3, "noscript readonly", [numkeys(2)]],
  script: [-2, "noscript", []],
  function: [-2, "noscript", []],
  // keyless server-wide commands the filters care about
  flushall: [-1, W, []],
  flushdb: [-1, W, []],
  swapdb: [3, W, []],
  select: [2, "loading stale", []],
  ping: [-1, "", []],
  multi: [1, "noscript", []],
  exec: [1, "noscript", []],
  publish: [3, "pubsub", []],
  config: [-2, A, []],
  debug: [-2, A, []],
  shutdown: [-1, A, []],
  save: [1, A, []],
  bgsave: [-1, A, []],
  bgrewriteaof: [1, A, []],
  replicaof: [3, A, []],
  slaveof: [3, A, []],
  acl: [-2, "", []],
  module: [-2, "", []],
};

function buildTable(rows: Readonly<Record<string, Row>>): CommandTable {
  const commands = new Map<string, CommandSpec>();
  const subs = new Map<string, Record<string, CommandSpec>>();
  for (const [name, [arity, flags, keySpecs]] of Object.entries(rows)) {
    const cmd: CommandSpec = { name, arity, flags: flags ? flags.split(" ") : [], keySpecs };
    const bar = name.indexOf("|");
    if (bar < 0) {
      commands.set(name, cmd);
      continue;
    }
    const parent = name.slice(0, bar);
    const list = subs.get(parent) ?? {};
    list[name] = cmd;
    subs.set(parent, list);
  }
  for (const [parent, subcommands] of subs) {
    const base = commands.get(parent);
    if (base) commands.set(parent, { ...base, subcommands });
  }
  return { commands };
}

export const builtinCommandTable: CommandTable = buildTable(ROWS);

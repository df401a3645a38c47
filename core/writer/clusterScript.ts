/**
 * One slot's part as ONE command: a script that checks the slot marker, runs the part's commands
 * and moves the marker — instead of WATCH, guard EVAL, MULTI, the commands, SET and EXEC.
 *
 * Why: a batch whose keys are spread over the slots is ~one small part per slot, and the cluster
 * writer spent its time (CPU, GC) on the six commands around each key, not on the key. A script is
 * atomic like MULTI…EXEC and replicates to the target's replicas as a transaction of its effects.
 *
 * When it is used (else the MULTI path): every command is known to the target and may run in a
 * script (no `noscript` flag), and has at most MAX_ARGS arguments (Lua's unpack limit). Every key
 * is declared in KEYS, so the node checks ownership (MOVED/ASK/TRYAGAIN during a migration) for all
 * of them before running anything — as it does for the commands of a MULTI. Commands run through
 * `redis.pcall`, so a refused command (WRONGTYPE…) is reported and the rest applies, as in EXEC;
 * nothing after the first write can raise, so the script never stops half way.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { type CommandTable, commandFlags, keyIndexes } from "../commands/table.ts";

/** Lua's C stack (LUAI_MAXCSTACK 8000) bounds unpack(); stay well below it. */
const MAX_ARGS = 1000;

/**
 * KEYS[1] slot marker, KEYS[2..] the commands' keys (declared for routing only).
 * ARGV[1] expected marker ('' = none), ARGV[2] new marker, then per command: argc, args….
 * Returns nil when the marker is not the expected one (another writer moved it: re-read, retry),
 * else a flat list of (command number, error message) for refused commands.
 */
export const APPLY_SCRIPT = `local v = redis.call('GET', KEYS[1])
if not (v == ARGV[1] or (ARGV[1] == '' and not v)) then return nil end
local errors = {}
local i = 3
local n = 0
while i <= #ARGV do
  local argc = tonumber(ARGV[i])
  n = n + 1
  local reply = redis.pcall(unpack(ARGV, i + 1, i + argc))
  if type(reply) == 'table' and reply.err then
    errors[#errors + 1] = n
    errors[#errors + 1] = reply.err
  end
  i = i + argc + 1
end
redis.call('SET', KEYS[1], ARGV[2])
return errors`;

export const APPLY_SHA = createHash("sha1").update(APPLY_SCRIPT).digest("hex");

/** The keys of each command, or null when one of them cannot go through the script. */
export function scriptKeys(
  table: CommandTable,
  commands: ReadonlyArray<{ argv: Buffer[]; keys?: readonly number[] }>,
): Buffer[] | null {
  const keys: Buffer[] = [];
  for (const command of commands) {
    const { argv } = command;
    if (argv.length > MAX_ARGS || !mayRunInScript(table, argv[0])) return null;
    const indexes = command.keys ?? keyIndexes(table, argv);
    if (indexes === null) return null;
    for (const i of indexes) keys.push(argv[i]!);
  }
  return keys;
}

/** Per table: command name → may run in a script. */
const byName = new WeakMap<CommandTable, Map<string, boolean>>();

/** Known to the target and without the `noscript` flag. */
function mayRunInScript(table: CommandTable, name: Buffer | undefined): boolean {
  if (name === undefined) return false;
  let names = byName.get(table);
  if (!names) {
    names = new Map();
    byName.set(table, names);
  }
  const text = name.toString("latin1").toLowerCase();
  let verdict = names.get(text);
  if (verdict === undefined) {
    const flags = commandFlags(table, text);
    verdict = flags.length > 0 && !flags.includes("noscript");
    // Names come from the source stream: bound the memo (a hostile stream of made-up names).
    if (names.size < 4096) names.set(text, verdict);
  }
  return verdict;
}

/**
 * Run the script (EVALSHA, EVAL when the node does not have it yet). Resolves null when the marker
 * guard failed, else the refused commands as `NAME: message` by position. Redirects reject.
 */
export async function runApplyScript(
  client: Redis,
  asking: boolean,
  markerKey: string,
  keys: Buffer[],
  expected: string,
  next: string,
  commands: ReadonlyArray<{ argv: Buffer[] }>,
): Promise<ScriptErrors | null> {
  const args = applyScriptArgs(markerKey, keys, expected, next, commands).slice(2);
  const run = (name: "EVALSHA" | "EVAL", script: string): Promise<unknown> => {
    if (asking) void client.call("ASKING").catch(() => {});
    return client.callBuffer(name, script, ...args);
  };
  let reply: unknown;
  try {
    reply = await run("EVALSHA", APPLY_SHA);
  } catch (err) {
    // NOSCRIPT: the script never ran, so sending it whole is safe.
    if (!isNoScript(err)) throw err;
    reply = await run("EVAL", APPLY_SCRIPT);
  }
  return scriptErrors(reply);
}

/** Refused commands of a part, by position in the part (0-based). */
export type ScriptErrors = Array<{ index: number; message: string }>;

const EVALSHA = Buffer.from("EVALSHA");
const SHA = Buffer.from(APPLY_SHA);

/**
 * The whole `EVALSHA <sha> <numkeys> <marker> <keys…> <expected> <next> (<argc> <args…>)…` argv,
 * ready for the RESP encoder: the command's Buffers are passed as they are (no copies, no strings).
 */
export function applyScriptArgs(
  markerKey: Buffer | string,
  keys: readonly Buffer[],
  expected: string,
  next: string,
  commands: ReadonlyArray<{ argv: Buffer[] }>,
): Array<Buffer | string | number> {
  const args: Array<Buffer | string | number> = [EVALSHA, SHA, 1 + keys.length, markerKey];
  for (const key of keys) args.push(key);
  args.push(expected, next);
  for (const { argv } of commands) {
    args.push(argv.length);
    for (const arg of argv) args.push(arg);
  }
  return args;
}

/** `SCRIPT LOAD <APPLY_SCRIPT>`: after it, EVALSHA finds the script on that node. */
export const LOAD_APPLY_SCRIPT: ReadonlyArray<Buffer | string> = ["SCRIPT", "LOAD", APPLY_SCRIPT];

/** NOSCRIPT: the node does not have the script (restarted, SCRIPT FLUSH); it did not run. */
export function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("NOSCRIPT");
}

/** The script's reply: null = the marker guard failed (nothing ran), else the refused commands. */
export function scriptErrors(reply: unknown): ScriptErrors | null {
  if (reply === null) return null;
  const flat = Array.isArray(reply) ? reply : [];
  const errors: ScriptErrors = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    errors.push({ index: Number(flat[i]) - 1, message: String(flat[i + 1]) });
  }
  return errors;
}

/**
 * The target's own command table from `COMMAND` (one round trip, every command with its
 * subcommands). Redis 7.0+ replies with key specs; older servers only with first/last/step, which
 * cannot describe numkeys or keyword keys (they flag such commands `movablekeys`): for those the
 * built-in table's specs are kept.
 */
import type { Redis } from "ioredis";
import { builtinCommandTable } from "./builtin.ts";
import type { BeginSearch, CommandSpec, CommandTable, FindKeys, KeySpec } from "./table.ts";

type Reply = string | number | Buffer | null | Reply[];

/**
 * Loads and parses `COMMAND`; falls back to the built-in table when the server refuses it (renamed or
 * ACL-blocked COMMAND on managed services). The server's view wins for every command it reports;
 * built-in entries for commands it does not report stay (a stream never carries those anyway).
 */
export async function loadCommandTable(client: Redis): Promise<CommandTable> {
  let reply: unknown;
  try {
    reply = await client.call("COMMAND");
  } catch {
    return builtinCommandTable;
  }
  return commandTableFromReply(reply);
}

/** Parses a `COMMAND` / `COMMAND INFO` reply (RESP2 arrays) and overlays it on the built-in table. */
export function commandTableFromReply(reply: unknown): CommandTable {
  const commands = new Map(builtinCommandTable.commands);
  if (!Array.isArray(reply)) return { commands };
  for (const entry of reply as Reply[]) {
    const parsed = Array.isArray(entry) ? parseCommand(entry) : null;
    if (parsed)
      commands.set(parsed.name, mergeWithBuiltin(parsed, builtinCommandTable.commands.get(parsed.name)));
  }
  return { commands };
}

function text(value: Reply | undefined): string {
  return value === undefined || value === null
    ? ""
    : Buffer.isBuffer(value)
      ? value.toString()
      : String(value);
}

function num(value: Reply | undefined): number {
  return Number(text(value));
}

/** `[k1, v1, k2, v2…]` → object (RESP2 rendering of a RESP3 map). */
function pairs(value: Reply | undefined): Map<string, Reply> {
  const out = new Map<string, Reply>();
  if (!Array.isArray(value)) return out;
  for (let i = 0; i + 1 < value.length; i += 2) out.set(text(value[i]).toLowerCase(), value[i + 1] as Reply);
  return out;
}

function parseCommand(entry: Reply[]): CommandSpec | null {
  const name = text(entry[0]).toLowerCase();
  if (!name) return null;
  const arity = num(entry[1]);
  const flags = Array.isArray(entry[2]) ? entry[2].map((f) => text(f).toLowerCase()) : [];
  const first = num(entry[3]);
  const last = num(entry[4]);
  const step = num(entry[5]);
  let keySpecs: KeySpec[] | null = null;
  if (Array.isArray(entry[8])) {
    keySpecs = [];
    for (const raw of entry[8]) {
      const ks = parseKeySpec(pairs(raw));
      if (ks) keySpecs.push(ks);
    }
  }
  // Pre-7.0: the legacy range (first == 0 means no keys; last < 0 counts from the end).
  if (keySpecs === null) {
    keySpecs =
      first > 0
        ? [{ begin: { index: first }, find: { lastKey: last < 0 ? last : last - first, step, limit: 0 } }]
        : [];
  }
  const cmd: CommandSpec = { name, arity, flags, keySpecs };
  if (Array.isArray(entry[9]) && entry[9].length > 0) {
    const subcommands: Record<string, CommandSpec> = {};
    for (const sub of entry[9]) {
      const parsed = Array.isArray(sub) ? parseCommand(sub) : null;
      if (parsed) subcommands[parsed.name] = parsed;
    }
    return { ...cmd, subcommands };
  }
  return cmd;
}

function parseKeySpec(fields: Map<string, Reply>): KeySpec | null {
  const keyFlags = Array.isArray(fields.get("flags"))
    ? (fields.get("flags") as Reply[]).map((f) => text(f).toLowerCase())
    : [];
  const bs = pairs(fields.get("begin_search"));
  const fk = pairs(fields.get("find_keys"));
  const bsSpec = pairs(bs.get("spec"));
  const fkSpec = pairs(fk.get("spec"));
  let begin: BeginSearch;
  const bsType = text(bs.get("type"));
  if (bsType === "index") begin = { index: num(bsSpec.get("index")) };
  else if (bsType === "keyword")
    begin = { keyword: text(bsSpec.get("keyword")), startFrom: num(bsSpec.get("startfrom")) };
  else
    return { begin: { index: 0 }, find: { lastKey: 0, step: 1, limit: 0 }, incomplete: true, notKey: true };
  let find: FindKeys;
  const fkType = text(fk.get("type"));
  if (fkType === "range")
    find = {
      lastKey: num(fkSpec.get("lastkey")),
      step: num(fkSpec.get("keystep")),
      limit: num(fkSpec.get("limit")),
    };
  else if (fkType === "keynum")
    find = {
      keyNumIdx: num(fkSpec.get("keynumidx")),
      firstKey: num(fkSpec.get("firstkey")),
      step: num(fkSpec.get("keystep")),
    };
  else return { begin, find: { lastKey: 0, step: 1, limit: 0 }, incomplete: true, notKey: true };
  const spec: KeySpec = { begin, find };
  return {
    ...spec,
    ...(keyFlags.includes("not_key") ? { notKey: true } : {}),
    ...(keyFlags.includes("incomplete") ? { incomplete: true } : {}),
  };
}

/**
 * Pre-7.0 replies cannot describe numkeys/keyword keys (those commands are flagged movablekeys) and
 * have no subcommands (XGROUP CREATE, OBJECT ENCODING): keep the built-in specs for both.
 */
function mergeWithBuiltin(server: CommandSpec, builtin: CommandSpec | undefined): CommandSpec {
  if (!builtin) return server;
  let merged = server;
  const hasSpecs = server.keySpecs.some((k) => "keyword" in k.begin || "keyNumIdx" in k.find);
  if (server.flags.includes("movablekeys") && !hasSpecs) merged = { ...merged, keySpecs: builtin.keySpecs };
  if (!server.subcommands && builtin.subcommands) merged = { ...merged, subcommands: builtin.subcommands };
  return merged;
}

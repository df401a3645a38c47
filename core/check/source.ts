/** Checks on each source master: can ferry replicate from it, and will the stream keep up. */
import {
  backlogVerdict,
  compareVersions,
  networkVerdict,
  outputBufferVerdict,
  parseOutputBufferLimit,
  sourceVersionVerdict,
  type Verdict,
} from "./advice.ts";
import { infoNumber, type NodeFacts, parseInfo } from "./facts.ts";
import type { CheckOptions, CheckResult } from "./types.ts";

type Emit = (id: string, verdict: Verdict) => void;

export function emitter(results: CheckResult[], side: CheckResult["side"], node?: string): Emit {
  return (id, v) => {
    const r: CheckResult = { id, side, status: v.status, message: v.message };
    if (node) r.node = node;
    if (v.advice) r.advice = v.advice;
    results.push(r);
  };
}

export async function checkSourceNode(
  facts: NodeFacts,
  user: string,
  opts: CheckOptions,
  results: CheckResult[],
): Promise<void> {
  const emit = emitter(results, "source", facts.address);
  emit("source.version", sourceVersionVerdict(facts.version));
  if (opts.sourceMode === "psync") {
    emit("source.psync-command", await psyncCommandVerdict(facts, opts.psyncCommand));
    emit("source.psync-acl", await psyncAclVerdict(facts, user, opts.psyncCommand));
  }
  emit("source.notify-keyspace-events", notifyVerdict(facts, opts.sourceMode));
  const config = facts.config;
  if (!config) {
    emit("source.config", {
      status: "warn",
      message: `CONFIG GET is not allowed (${facts.configError ?? "blocked"}): replication settings cannot be checked`,
      advice: "check repl-backlog-size and client-output-buffer-limit in your provider's console",
    });
  } else {
    const diskless = config.get("repl-diskless-sync");
    emit(
      "source.repl-diskless-sync",
      diskless === "no"
        ? {
            status: "ok",
            message:
              "repl-diskless-sync no: the source writes an RDB file to its disk before sending it (needs free disk as large as the dataset)",
            advice:
              "CONFIG SET repl-diskless-sync yes   streams the snapshot without touching the source's disk",
          }
        : { status: "ok", message: `repl-diskless-sync ${diskless ?? "?"}` },
    );
    const timeout = Number(config.get("repl-timeout"));
    emit(
      "source.repl-timeout",
      timeout < 60
        ? {
            status: "warn",
            message: `repl-timeout ${timeout} s: a short pause of ferry (GC, target backpressure) drops the link`,
            advice: "CONFIG SET repl-timeout 60",
          }
        : { status: "ok", message: `repl-timeout ${timeout} s` },
    );
  }
  const rate = await sampleWriteRate(facts, opts.sampleSeconds);
  const rateNote = rate.estimated
    ? " (estimated from net input: no replica yet, so no replication offset to sample)"
    : "";
  const net = networkVerdict(rate.bytesPerSecond);
  emit("network.bandwidth", { ...net, message: net.message + rateNote });
  if (config) {
    const backlog = Number(config.get("repl-backlog-size"));
    emit("source.backlog", backlogVerdict(backlog, rate.bytesPerSecond));
    const limit = parseOutputBufferLimit(config.get("client-output-buffer-limit") ?? "");
    if (limit) {
      const dataset = infoNumber(facts, "used_memory_dataset") || infoNumber(facts, "used_memory");
      emit(
        "source.output-buffer",
        outputBufferVerdict(limit, rate.bytesPerSecond, dataset, opts.snapshotBytesPerSecond),
      );
    }
  }
}

async function psyncCommandVerdict(facts: NodeFacts, name: string): Promise<Verdict> {
  const reply = (await facts.client.call("COMMAND", "INFO", name).catch(() => null)) as unknown[] | null;
  if (reply === null)
    return { status: "warn", message: "COMMAND INFO is not allowed: cannot tell whether PSYNC is available" };
  if (reply[0] === null || reply[0] === undefined) {
    return {
      status: "fail",
      message: `${name} is renamed or disabled on this server (COMMAND INFO ${name} is empty)`,
      advice: "if your provider renamed it, pass --psync-command <name>; otherwise use --source-mode scan",
    };
  }
  return { status: "ok", message: `${name} is available` };
}

async function psyncAclVerdict(facts: NodeFacts, user: string, name: string): Promise<Verdict> {
  const version = facts.version.version;
  if (facts.version.server === "redis" && compareVersions(version, "6.0.0") < 0) {
    return { status: "ok", message: "no ACLs before Redis 6: any authenticated client may PSYNC" };
  }
  const grant = `ACL SETUSER ${user} +psync +replconf +ping`;
  if (facts.version.server === "valkey" || compareVersions(version, "7.0.0") >= 0) {
    try {
      const reply = String(await facts.client.call("ACL", "DRYRUN", user, name, "?", "-1"));
      if (reply === "OK") return { status: "ok", message: `user ${user} may run ${name}` };
      return { status: "fail", message: `user ${user} may not run ${name}: ${reply}`, advice: grant };
    } catch (err) {
      const message = (err as Error).message;
      if (/no permissions|NOPERM/i.test(message) && !/DRYRUN|acl/i.test(message)) {
        return { status: "fail", message: `user ${user} may not run ${name}: ${message}`, advice: grant };
      }
      return {
        status: "warn",
        message: `cannot verify ${name} permission (${message})`,
        advice: `make sure user ${user} has +psync`,
      };
    }
  }
  try {
    const reply = (await facts.client.call("ACL", "GETUSER", user)) as unknown[];
    const i = reply.findIndex((v) => String(v) === "commands");
    const allowed = aclRulesAllowPsync(String(reply[i + 1] ?? ""));
    return allowed
      ? { status: "ok", message: `user ${user} may run PSYNC (ACL GETUSER)` }
      : { status: "fail", message: `user ${user} may not run PSYNC`, advice: grant };
  } catch (err) {
    return {
      status: "warn",
      message: `cannot verify PSYNC permission (${(err as Error).message})`,
      advice: `make sure user ${user} has +psync`,
    };
  }
}

/** Redis 6 ACL command rules are applied left to right; the last one that mentions psync wins. */
export function aclRulesAllowPsync(rules: string): boolean {
  let allowed = false;
  for (const rule of rules.split(/\s+/)) {
    const r = rule.toLowerCase();
    if (["+@all", "allcommands", "+psync", "+@admin", "+@dangerous", "+@slow"].includes(r)) allowed = true;
    if (["-@all", "nocommands", "-psync", "-@admin", "-@dangerous", "-@slow"].includes(r)) allowed = false;
  }
  return allowed;
}

function notifyVerdict(facts: NodeFacts, mode: CheckOptions["sourceMode"]): Verdict {
  const flags = facts.config?.get("notify-keyspace-events");
  if (mode === "psync")
    return {
      status: "ok",
      message: `notify-keyspace-events "${flags ?? "?"}" (only used by --source-mode scan)`,
    };
  if (flags === undefined)
    return {
      status: "warn",
      message: "cannot read notify-keyspace-events",
      advice: "scan mode needs keyspace notifications: CONFIG SET notify-keyspace-events KEA",
    };
  // Scan mode learns about changed keys from keyspace/keyevent notifications of every type.
  const ok = /[KE]/.test(flags) && (/A/.test(flags) || [..."g$lshzxt"].every((f) => flags.includes(f)));
  return ok
    ? { status: "ok", message: `notify-keyspace-events "${flags}"` }
    : {
        status: "fail",
        message: `notify-keyspace-events "${flags}": scan mode would miss changes`,
        advice: "CONFIG SET notify-keyspace-events KEA",
      };
}

/**
 * Write volume = growth of master_repl_offset (bytes of the replication stream). A master with no
 * replica ever attached has no backlog and its offset does not move; then total_net_input_bytes is
 * the (upper-bound) estimate.
 */
export async function sampleWriteRate(
  facts: NodeFacts,
  seconds: number,
): Promise<{ bytesPerSecond: number; estimated: boolean }> {
  const read = async () => {
    const info = parseInfo(String(await facts.client.info()));
    return {
      offset: Number(info.get("master_repl_offset") ?? 0),
      input: Number(info.get("total_net_input_bytes") ?? 0),
      active: info.get("repl_backlog_active") === "1",
      at: Date.now(),
    };
  };
  const a = await read();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = await read();
  const elapsed = Math.max(0.001, (b.at - a.at) / 1000);
  if (a.active && b.active)
    return { bytesPerSecond: Math.max(0, b.offset - a.offset) / elapsed, estimated: false };
  return { bytesPerSecond: Math.max(0, b.input - a.input) / elapsed, estimated: true };
}

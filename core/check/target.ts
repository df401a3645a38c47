/** Checks on the target, and the ones that compare both sides (modules, memory, RDB version, layout). */
import { formatBytes, restoreCompatibility, targetMemoryVerdict } from "./advice.ts";
import { infoNumber, type NodeFacts } from "./facts.ts";
import { emitter } from "./source.ts";
import type { CheckResult } from "./types.ts";

export interface Side {
  kind: "standalone" | "cluster";
  nodes: NodeFacts[];
}

export function checkTarget(source: Side, target: Side, results: CheckResult[]): void {
  const src = source.nodes[0];
  for (const node of target.nodes) {
    const emit = emitter(results, "target", node.address);
    if (src) emit("target.version", restoreCompatibility(src.version, node.version));
    const policy = node.config?.get("maxmemory-policy");
    emit(
      "target.eviction",
      policy === undefined
        ? {
            status: "warn",
            message: "cannot read maxmemory-policy",
            advice: "make sure the target does not evict keys (noeviction)",
          }
        : policy === "noeviction"
          ? { status: "ok", message: "maxmemory-policy noeviction" }
          : {
              status: "warn",
              message: `maxmemory-policy ${policy}: the target may evict migrated keys when full`,
              advice: "CONFIG SET maxmemory-policy noeviction",
            },
    );
    const keys = [...node.keyspace.values()].reduce((a, b) => a + b, 0);
    emit(
      "target.empty",
      keys > 0
        ? {
            status: "warn",
            message: `the target already holds ${keys} keys: keys that also exist on the source will be overwritten`,
            advice:
              "migrate into an empty target (FLUSHALL it if that is intended) or map to unused dbs with --db-map",
          }
        : { status: "ok", message: "the target is empty" },
    );
  }
  const emit = emitter(results, "target");
  emit("target.memory", memoryVerdict(source, target));
  emit("target.layout", layoutVerdict(source, target));
  const missing = missingModules(source, target);
  if (missing !== null) {
    emit(
      "target.modules",
      missing.length > 0
        ? {
            status: "fail",
            message: `modules loaded on the source but not on the target: ${missing.join(", ")}`,
            advice: "load the same modules on the target (loadmodule in redis.conf) before migrating",
          }
        : { status: "ok", message: "every source module is loaded on the target" },
    );
  } else {
    emit("target.modules", {
      status: "warn",
      message: "MODULE LIST is not allowed on one side: cannot compare modules",
      advice: "compare loaded modules by hand",
    });
  }
}

function memoryVerdict(source: Side, target: Side) {
  const used = source.nodes.reduce((sum, n) => sum + (infoNumber(n, "used_memory") || 0), 0);
  const limits = target.nodes.map((n) => Number(n.config?.get("maxmemory") ?? Number.NaN));
  if (limits.some((l) => Number.isNaN(l))) {
    return {
      status: "warn" as const,
      message: `cannot read the target's maxmemory; source uses ${formatBytes(used)}`,
      advice: "make sure the target has room for it",
    };
  }
  // Any master without a limit can hold anything; otherwise the sum of the masters' limits.
  const max = limits.some((l) => l === 0) ? 0 : limits.reduce((a, b) => a + b, 0);
  return targetMemoryVerdict(max, used);
}

function layoutVerdict(source: Side, target: Side) {
  const describe = (s: Side) =>
    s.kind === "cluster" ? `cluster of ${s.nodes.length} masters` : "standalone";
  const message = `source ${describe(source)} → target ${describe(target)}`;
  if (target.kind === "cluster") {
    const notOk = target.nodes.filter((n) => n.info.get("cluster_state") !== "ok");
    if (notOk.length > 0) {
      return {
        status: "fail" as const,
        message: `${message}: cluster_state is not ok on ${notOk.map((n) => n.address).join(", ")}`,
        advice: "fix the target cluster (all 16384 slots covered) first",
      };
    }
    const dbs = new Set(source.nodes.flatMap((n) => [...n.keyspace.keys()]).filter((db) => db !== 0));
    if (dbs.size > 0) {
      return {
        status: "warn" as const,
        message: `${message}: the source has keys in db ${[...dbs].join(", ")} but a cluster only has db 0`,
        advice: `map them explicitly, e.g. --db-map ${[...dbs].map((db) => `${db}:0`).join(",")} (keys of different dbs may collide)`,
      };
    }
  }
  return { status: "ok" as const, message };
}

function missingModules(source: Side, target: Side): string[] | null {
  if ([...source.nodes, ...target.nodes].some((n) => n.modules === null)) return null;
  const have = new Set(target.nodes.flatMap((n) => n.modules ?? []));
  return [...new Set(source.nodes.flatMap((n) => n.modules ?? []))].filter((m) => !have.has(m));
}

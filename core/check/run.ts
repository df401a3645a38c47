/**
 * `ferry check`: connect to every master of both sides, gather facts, judge them. Never throws for
 * a problem with a server — that is a FAIL line; only bad input throws.
 */
import type { Redis } from "ioredis";
import { connectRedis } from "../connect/client.ts";
import { detectTopology } from "../connect/topology.ts";
import { formatAddress } from "../connect/url.ts";
import { BadInputError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { bigKeyVerdict, scanBigKeys } from "./bigkeys.ts";
import { gatherFacts } from "./facts.ts";
import { checkSourceNode, emitter } from "./source.ts";
import { checkTarget, type Side } from "./target.ts";
import {
  type CheckOptions,
  type CheckReport,
  type CheckResult,
  DEFAULT_CHECK_OPTIONS,
  summarize,
} from "./types.ts";

export interface RunCheckInput {
  source: RedisEndpoint;
  target: RedisEndpoint;
  options?: Partial<CheckOptions>;
}

export async function runCheck(input: RunCheckInput): Promise<CheckReport> {
  const opts: CheckOptions = { ...DEFAULT_CHECK_OPTIONS, ...input.options };
  if (!(opts.sampleSeconds > 0) || !(opts.scanSeconds >= 0) || !(opts.snapshotBytesPerSecond > 0)) {
    throw new BadInputError(
      "--sample-seconds and --snapshot-rate must be > 0, --scan-seconds ≥ 0",
      "fix the option values",
    );
  }
  const results: CheckResult[] = [];
  const clients: Redis[] = [];
  try {
    const connectResults: CheckResult[][] = [[], []];
    const [source, target] = await Promise.all([
      openSide(input.source, "source", connectResults[0]!, clients),
      openSide(input.target, "target", connectResults[1]!, clients),
    ]);
    results.push(...connectResults.flat());
    if (source) {
      const user = input.source.username ?? "default";
      // Masters are sampled in parallel: the write-rate sample is a wall-clock wait per node.
      const perNode = await Promise.all(
        source.nodes.map(async (node) => {
          const out: CheckResult[] = [];
          await checkSourceNode(node, user, opts, out);
          const dbs = [...node.keyspace.keys()].sort((a, b) => a - b);
          const total = [...node.keyspace.values()].reduce((a, b) => a + b, 0);
          try {
            const scan = await scanBigKeys(node.client, dbs.length > 0 ? dbs : [0], {
              seconds: opts.scanSeconds,
              keep: opts.bigKeysListed,
              total,
            });
            emitter(
              out,
              "source",
              node.address,
            )("source.big-keys", bigKeyVerdict(scan, opts.bigKeyThreshold));
          } catch (err) {
            emitter(
              out,
              "source",
              node.address,
            )("source.big-keys", {
              status: "warn",
              message: `cannot scan for big keys: ${(err as Error).message}`,
              advice: "grant +scan +memory to the user, or check big keys with redis-cli --bigkeys",
            });
          }
          return out;
        }),
      );
      results.push(...perNode.flat());
    }
    if (source && target) checkTarget(source, target, results);
  } finally {
    for (const c of clients) c.disconnect();
  }
  return summarize(results);
}

async function openSide(
  endpoint: RedisEndpoint,
  side: "source" | "target",
  results: CheckResult[],
  clients: Redis[],
): Promise<Side | null> {
  const emit = emitter(results, side, formatAddress(endpoint));
  try {
    const seed = await connectRedis(endpoint, { name: `ferry-check-${side}` });
    clients.push(seed);
    const topology = await detectTopology(seed, endpoint);
    if (topology.kind === "standalone") {
      emit(`${side}.connect`, { status: "ok", message: "connected (standalone)" });
      return { kind: "standalone", nodes: [await gatherFacts(seed, formatAddress(endpoint))] };
    }
    emit(`${side}.connect`, {
      status: "ok",
      message: `connected (cluster of ${topology.masters.length} masters)`,
    });
    const nodes = await Promise.all(
      topology.masters.map(async (m) => {
        const client = await connectRedis(m.endpoint, { name: `ferry-check-${side}` });
        clients.push(client);
        return gatherFacts(client, formatAddress(m.endpoint));
      }),
    );
    return { kind: "cluster", nodes };
  } catch (err) {
    const e = err as Error & { advice?: string };
    emit(`${side}.connect`, {
      status: "fail",
      message: e.message,
      ...(e.advice ? { advice: e.advice } : {}),
    });
    return null;
  }
}

/** One line per check, `OK`/`WARN`/`FAIL`, advice indented under it. */
export function formatCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  const label = { ok: "OK  ", warn: "WARN", fail: "FAIL" } as const;
  for (const r of report.results) {
    lines.push(`${label[r.status]} ${r.id.padEnd(30)} ${r.node ? `[${r.node}] ` : ""}${r.message}`);
    if (r.advice && r.status !== "ok") lines.push(`     → ${r.advice}`);
    else if (r.advice && r.id === "network.bandwidth") lines.push(`     → ${r.advice}`);
  }
  const s = report.summary;
  lines.push("", `${s.ok} ok, ${s.warn} warning(s), ${s.fail} failure(s)`);
  return `${lines.join("\n")}\n`;
}

/**
 * `npx tsx bench/cluster.ts [--masters 3,6] [--keys 200000] [--ops 300000] [--target cluster|standalone] [--queue-mb 64]`
 *
 * Cluster source → target throughput with every replica channel running in parallel:
 * - snapshot: DEBUG POPULATE fills each source master (keys spread over all target slots), then
 *   keys/s from job start until every shard streams (per shard: its keys / its own time);
 * - incremental: redis-benchmark --cluster writes SET/INCR/LPUSH with random keys; ops/s applied from
 *   the first write until every shard's applied offset reached its master's offset.
 * Real redis-server processes on this machine; ferry runs in this process (SyncJob).
 */
import { execFile } from "node:child_process";
import { parseArgs, promisify } from "node:util";
import { SyncJob } from "../core/jobs/syncJob.ts";
import { createLogger } from "../core/observability/logger.ts";
import { masterClients, syncConfig, waitCaughtUp } from "../test/clusterSync/harness.ts";
import {
  type RedisClusterProc,
  type RedisProc,
  startCluster,
  startRedis,
  waitFor,
} from "../test/helpers/redis.ts";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    masters: { type: "string", default: "3,6" },
    keys: { type: "string", default: "200000" },
    ops: { type: "string", default: "300000" },
    target: { type: "string", default: "cluster" },
    "queue-mb": { type: "string", default: "64" },
  },
});

interface Row {
  masters: number;
  target: string;
  snapshotKeys: number;
  snapshotSeconds: number;
  perShardKeysPerSecond: number[];
  incrementalOps: number;
  incrementalSeconds: number;
  perShardOpsPerSecond: number[];
}

async function appliedByShard(job: SyncJob): Promise<Map<string, number>> {
  const metric = await job.metrics.appliedCommands.get();
  return new Map(metric.values.map((v) => [String(v.labels.shard), v.value]));
}

async function once(masters: number, keys: number, ops: number, targetKind: string): Promise<Row> {
  const source: RedisClusterProc = await startCluster({ masters });
  const target: RedisClusterProc | RedisProc =
    targetKind === "cluster" ? await startCluster({ masters: 3 }) : await startRedis();
  try {
    const nodes = await masterClients(source.seeds[0]!);
    const per = Math.floor(keys / nodes.length);
    await Promise.all(nodes.map((n, i) => n.call("DEBUG", "POPULATE", per, `m${i}`, 64)));
    const log = createLogger({ level: "warn" });
    const config = syncConfig(source.url, target.url, { queueBytes: Number(values["queue-mb"]) * 2 ** 20 });
    const job = await SyncJob.open({ config, log });
    const started = Date.now();
    const done = job.run();
    done.catch(() => {});
    const streamingAt = new Map<string, number>();
    await waitFor(
      () => {
        for (const s of job.status().shards)
          if (s.phase === "streaming" && !streamingAt.has(s.shard)) streamingAt.set(s.shard, Date.now());
        return job.status().phase === "streaming";
      },
      600_000,
      20,
    );
    const snapshotSeconds = (Date.now() - started) / 1000;
    const status = job.status();
    const perShardKeysPerSecond = status.shards.map(
      (s) => s.keysDone / (((streamingAt.get(s.shard) ?? Date.now()) - started) / 1000),
    );

    const before = await appliedByShard(job);
    const incStart = Date.now();
    const seed = source.seeds[0]!;
    await run(
      "redis-benchmark",
      [
        "-h",
        seed.host,
        "-p",
        String(seed.port),
        "--cluster",
        "-t",
        "set,incr,lpush",
        "-n",
        String(Math.floor(ops / 3)),
        "-r",
        "100000",
        "-P",
        "16",
        "-c",
        "20",
        "-q",
      ],
      { maxBuffer: 16 * 2 ** 20 },
    );
    await waitCaughtUp(job, nodes, 600_000);
    const incrementalSeconds = (Date.now() - incStart) / 1000;
    const after = await appliedByShard(job);
    const perShard = status.shards.map((s) => (after.get(s.shard) ?? 0) - (before.get(s.shard) ?? 0));
    for (const n of nodes) n.disconnect();
    await job.stop();
    return {
      masters,
      target: targetKind,
      snapshotKeys: status.totals.keysDone,
      snapshotSeconds,
      perShardKeysPerSecond,
      incrementalOps: perShard.reduce((a, b) => a + b, 0),
      incrementalSeconds,
      perShardOpsPerSecond: perShard.map((n) => n / incrementalSeconds),
    };
  } finally {
    await source.stop();
    await target.stop();
  }
}

const rows: Row[] = [];
for (const m of values.masters.split(",").map(Number)) {
  rows.push(await once(m, Number(values.keys), Number(values.ops), values.target));
}
const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
console.log(`source masters → ${values.target} target, ${process.arch}, node ${process.version}`);
for (const r of rows) {
  console.log(
    `${r.masters} masters: snapshot ${r.snapshotKeys} keys in ${r.snapshotSeconds.toFixed(1)} s = ${k(r.snapshotKeys / r.snapshotSeconds)} keys/s (per shard ${r.perShardKeysPerSecond.map(k).join(", ")}); ` +
      `incremental ${r.incrementalOps} ops in ${r.incrementalSeconds.toFixed(1)} s = ${k(r.incrementalOps / r.incrementalSeconds)} ops/s (per shard ${r.perShardOpsPerSecond.map(k).join(", ")})`,
  );
}

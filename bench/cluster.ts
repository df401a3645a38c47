/**
 * Cluster scenario: a source cluster of N masters (3 and 6 by default) copied into an empty target
 * cluster of N masters by `ferry sync --until-synced` (one replica channel per source master, in
 * parallel, in one ferry process started as users start it) and, as the baseline, by N native
 * replicas told REPLICAOF at once. Figures: wall time, keys/s, ratio native ÷ ferry, ferry's peak RSS,
 * disk writes and CPU. Part of `npm run bench` (`--only cluster`); alone:
 *
 *   npx tsx bench/cluster.ts [--masters 3,6] [--size default|large] [--ferry-args "…"] [--target standalone]
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { bundleCli } from "../functions/cli/bundle.ts";
import { startCluster, startRedis } from "../test/helpers/redis.ts";
import { type ClusterMaster, clusterMasters, fillCluster, keysPerMaster } from "./lib/clusterData.ts";
import { type NativeClusterFigures, nativeClusterSnapshot } from "./lib/clusterNative.ts";
import type { DatasetInfo, SizeName } from "./lib/dataset.ts";
import { ferrySyncArgs, readProc, startFerry } from "./lib/proc.ts";
import { fmt, type Row, table } from "./lib/report.ts";
import { rdbSize } from "./snapshot.ts";

/**
 * Keys in the whole source cluster (not per master), plus the dataset's four big keys. Default: one
 * run of each size takes ~15-25 s here, so 3 + 6 masters stay within ~1 minute on 2 shared cores.
 */
export const CLUSTER_SIZES = {
  default: { keys: 100_000, bigKeyElements: 20_000 },
  large: { keys: 500_000, bigKeyElements: 100_000 },
} as const satisfies Record<SizeName, { keys: number; bigKeyElements: number }>;

export interface ClusterScenarioOptions {
  masters?: number[];
  keys: number;
  bigKeyElements: number;
  ferryArgs?: string[];
  /** `standalone`: one plain redis-server as the target (isolates the cluster target's writer cost). */
  target?: "cluster" | "standalone";
  cpuProfDir?: string;
  log: (line: string) => void;
}

export interface FerryClusterFigures {
  seconds: number;
  keysPerSecond: number;
  mbPerSecond: number;
  /** Target keys (markers left out) equal the source's. */
  keysMatch: boolean;
  copiedKeys: number;
  peakRssBytes: number;
  diskWriteBytes: number;
  cpuSeconds: number;
  cpuMicrosPerKey: number;
  /** CPU all target / all source masters spent meanwhile. */
  targetCpuSeconds: number;
  sourceCpuSeconds: number;
}

export interface ClusterRunFigures {
  masters: number;
  target: "cluster" | "standalone";
  dataset: DatasetInfo;
  keys: number;
  keysPerMaster: number[];
  rdbBytes: number;
  ferry: FerryClusterFigures;
  native: NativeClusterFigures & { keysPerSecond: number; mbPerSecond: number };
  /** native seconds ÷ ferry seconds. */
  ratio: number;
}

const cpuOf = (masters: ClusterMaster[]): number =>
  masters.reduce((sum, m) => sum + readProc(m.proc.pid()).cpuSeconds, 0);

async function ferryClusterSnapshot(
  source: { url: string; masters: ClusterMaster[] },
  target: { url: string; masters: ClusterMaster[] },
  expected: number,
  rdbBytes: number,
  opts: ClusterScenarioOptions,
): Promise<FerryClusterFigures> {
  const targetCpu = cpuOf(target.masters);
  const sourceCpu = cpuOf(source.masters);
  const started = performance.now();
  const run = startFerry(
    ferrySyncArgs(source.url, target.url, ["--until-synced", ...(opts.ferryArgs ?? [])]),
    opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {},
  );
  const code = await run.exited;
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`ferry sync exited with ${code}:\n${run.stderr().slice(-4000)}`);
  const sample = run.sample();
  const copiedKeys = (await keysPerMaster(target.masters)).reduce((a, b) => a + b, 0);
  return {
    seconds,
    keysPerSecond: expected / seconds,
    mbPerSecond: rdbBytes / 1e6 / seconds,
    keysMatch: copiedKeys === expected,
    copiedKeys,
    peakRssBytes: sample.peakRssBytes,
    diskWriteBytes: sample.writeBytes,
    cpuSeconds: sample.cpuSeconds,
    cpuMicrosPerKey: (sample.cpuSeconds * 1e6) / expected,
    targetCpuSeconds: cpuOf(target.masters) - targetCpu,
    sourceCpuSeconds: cpuOf(source.masters) - sourceCpu,
  };
}

async function once(masters: number, opts: ClusterScenarioOptions): Promise<ClusterRunFigures> {
  const { log } = opts;
  const targetKind = opts.target ?? "cluster";
  const [source, target] = await Promise.all([
    startCluster({ masters }),
    targetKind === "cluster" ? startCluster({ masters }) : startRedis(),
  ]);
  try {
    const sourceMasters = await clusterMasters(source);
    const targetMasters =
      "nodes" in target
        ? await clusterMasters(target)
        : [{ proc: target, client: target.client(), slots: [[0, 16383]] as Array<[number, number]> }];
    log(`cluster ${masters} masters: filling ${opts.keys} keys + 4 big keys of ${opts.bigKeyElements}…`);
    const dataset = await fillCluster(sourceMasters, opts.keys, opts.bigKeyElements);
    const perMaster = await keysPerMaster(sourceMasters);
    const keys = perMaster.reduce((a, b) => a + b, 0);
    let rdbBytes = 0;
    for (const m of sourceMasters) rdbBytes += await rdbSize(m.proc);
    log(
      `  ${keys} keys (${perMaster.join(" + ")}), ${fmt.mib(dataset.usedMemoryBytes)}, RDB ${fmt.mib(rdbBytes)}, ${fmt.s(dataset.fillSeconds)}`,
    );
    const ferry = await ferryClusterSnapshot(
      { url: source.url, masters: sourceMasters },
      { url: target.url, masters: targetMasters },
      keys,
      rdbBytes,
      opts,
    );
    log(
      `  ferry ${fmt.s(ferry.seconds)}, ${fmt.n(ferry.keysPerSecond)} keys/s, CPU ${fmt.s(ferry.cpuSeconds)} (${ferry.cpuMicrosPerKey.toFixed(1)} µs/key), target CPU ${fmt.s(ferry.targetCpuSeconds)}, peak RSS ${fmt.mib(ferry.peakRssBytes)}, copied ${ferry.copiedKeys}/${keys}`,
    );
    // The target cluster is done: stop it so the native run does not share the machine with it.
    await target.stop();
    const native = await nativeClusterSnapshot(sourceMasters, perMaster);
    log(`  native ${fmt.s(native.seconds)} (per replica ${native.perReplicaSeconds.map(fmt.s).join(", ")})`);
    return {
      masters,
      target: targetKind,
      dataset,
      keys,
      keysPerMaster: perMaster,
      rdbBytes,
      ferry,
      native: {
        ...native,
        keysPerSecond: keys / native.seconds,
        mbPerSecond: rdbBytes / 1e6 / native.seconds,
      },
      ratio: native.seconds / ferry.seconds,
    };
  } finally {
    await Promise.all([source.stop(), target.stop()]);
  }
}

function rowsOf(r: ClusterRunFigures): Row[] {
  const name = `cluster ${r.masters} masters${r.target === "cluster" ? "" : ` → ${r.target}`}`;
  const blank = { native: "", ratio: "", goal: "", met: null };
  return [
    {
      figure: `${name} snapshot time`,
      ferry: fmt.s(r.ferry.seconds),
      native: fmt.s(r.native.seconds),
      ratio: "",
      goal: "",
      met: null,
    },
    {
      figure: `${name} snapshot keys/s`,
      ferry: fmt.n(r.ferry.keysPerSecond),
      native: fmt.n(r.native.keysPerSecond),
      ratio: fmt.pct(r.ratio),
      goal: "keys match",
      met: r.ferry.keysMatch,
    },
    {
      ...blank,
      figure: `${name} ferry CPU`,
      ferry: `${fmt.s(r.ferry.cpuSeconds)} (${r.ferry.cpuMicrosPerKey.toFixed(1)} µs/key)`,
    },
    { ...blank, figure: `${name} peak RSS`, ferry: fmt.mib(r.ferry.peakRssBytes) },
    {
      ...blank,
      figure: `${name} disk writes`,
      ferry: `${r.ferry.diskWriteBytes} B`,
      goal: "0 B",
      met: r.ferry.diskWriteBytes === 0,
    },
  ];
}

/** Runs every master count in turn (one pair of clusters at a time: two shared cores). */
export async function clusterScenario(
  opts: ClusterScenarioOptions,
): Promise<{ rows: Row[]; json: { keys: number; bigKeyElements: number; runs: ClusterRunFigures[] } }> {
  const runs: ClusterRunFigures[] = [];
  for (const masters of opts.masters ?? [3, 6]) runs.push(await once(masters, opts));
  return {
    rows: runs.flatMap(rowsOf),
    json: { keys: opts.keys, bigKeyElements: opts.bigKeyElements, runs },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      masters: { type: "string", default: "3,6" },
      size: { type: "string", default: "default" },
      "ferry-args": { type: "string", default: "" },
      target: { type: "string", default: "cluster" },
    },
  });
  const size = CLUSTER_SIZES[values.size as SizeName];
  if (!size) throw new Error(`--size must be one of ${Object.keys(CLUSTER_SIZES).join(", ")}`);
  await bundleCli({ root: fileURLToPath(new URL("..", import.meta.url)) });
  const { rows, json } = await clusterScenario({
    masters: values.masters.split(",").map(Number),
    ...size,
    ferryArgs: values["ferry-args"].split(" ").filter(Boolean),
    target: values.target === "standalone" ? "standalone" : "cluster",
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(table(rows));
  console.log(JSON.stringify(json, null, 2));
  process.exit(rows.every((r) => r.met !== false) ? 0 : 1);
}

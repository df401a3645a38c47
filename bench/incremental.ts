/**
 * Incremental scenario: a paced write load on the source at rising rates; a rate is "sustained"
 * when the load generator achieved it, the lag stayed bounded during the step (p99 under
 * LAG_BOUND_MS) and the replica caught up within a second after it. The same ladder runs against
 * ferry (source → ferry → target) and a native replica; then the lag distribution is measured at
 * half of ferry's highest sustained rate on both.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import type { Redis } from "ioredis";
import { type RedisProc, startRedis, waitFor } from "../test/helpers/redis.ts";
import { LoadGenerator } from "./lib/load.ts";
import { LagProbe, percentile } from "./lib/probe.ts";
import { ferrySyncArgs, readProc, startFerry } from "./lib/proc.ts";

const STEP_SECONDS = 3;
const LAG_BOUND_MS = 250;
const FIRST_RATE = 10_000;
const RATE_FACTOR = 1.25;
const MAX_RATE = 4_000_000;
/** Bisection steps between the last sustained and the first failed rate (×1.25 → ~×1.03). */
const REFINE_STEPS = 3;

export interface StepResult {
  rate: number;
  achievedRate: number;
  lagP50Ms: number;
  lagP99Ms: number;
  catchUpMs: number;
  sustained: boolean;
}

export interface LadderResult {
  maxSustainedRate: number;
  /** "lag": the replica fell behind; "load": the source/generator could not go faster. */
  limitedBy: "lag" | "load" | "ceiling";
  steps: StepResult[];
}

export interface LagResult {
  rate: number;
  /** Replica-side CPU per command applied (ferry's process or the native replica). */
  cpuMicrosPerOp: number;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface Side {
  name: string;
  /** Where the probe shows up. */
  replica: Redis;
  stop(): Promise<{ peakRssBytes?: number }>;
}

async function caughtUp(gen: LoadGenerator, probe: LagProbe, timeoutMs: number): Promise<number> {
  const started = performance.now();
  gen.probe();
  const want = gen.probes;
  await waitFor(() => probe.seenSeq >= want, timeoutMs, 2).catch(() => {});
  return probe.seenSeq >= want ? performance.now() - started : Number.POSITIVE_INFINITY;
}

/**
 * @param firstRate where the climb starts (default 10k ops/s). A second ladder of the same side
 *   can start near what the first sustained: the low steps only cost time.
 */
export async function ladder(
  gen: LoadGenerator,
  probe: LagProbe,
  log: (s: string) => void,
  firstRate = FIRST_RATE,
): Promise<LadderResult> {
  const steps: StepResult[] = [];

  /** One step; a failed one is run once more (a single scheduling hiccup on a shared machine). */
  const tryStep = async (rate: number): Promise<StepResult & { loadOk: boolean }> => {
    for (let attempt = 0; ; attempt++) {
      probe.take();
      const load = await gen.run(rate, STEP_SECONDS);
      const samples = probe.take();
      const catchUpMs = await caughtUp(gen, probe, 30_000);
      const loadOk = load.achievedRate >= 0.95 * rate;
      const step: StepResult = {
        rate,
        achievedRate: Math.round(load.achievedRate),
        lagP50Ms: percentile(samples, 50),
        lagP99Ms: percentile(samples, 99),
        catchUpMs,
        sustained: false,
      };
      step.sustained = loadOk && step.lagP99Ms <= LAG_BOUND_MS && catchUpMs <= 1000;
      await gen.settle();
      if (!step.sustained && attempt === 0) {
        log(
          `  ${rate} ops/s: lag p99 ${step.lagP99Ms.toFixed(1)} ms, achieved ${step.achievedRate}; once more`,
        );
        continue;
      }
      steps.push(step);
      log(
        `  ${rate} ops/s: achieved ${step.achievedRate}, lag p50 ${step.lagP50Ms.toFixed(1)} ms p99 ${step.lagP99Ms.toFixed(1)} ms, catch-up ${catchUpMs.toFixed(0)} ms → ${step.sustained ? "ok" : "no"}`,
      );
      return { ...step, loadOk };
    }
  };

  let best = 0;
  let failed: (StepResult & { loadOk: boolean }) | null = null;
  for (let i = 0; Math.round(firstRate * RATE_FACTOR ** i) <= MAX_RATE; i++) {
    const step = await tryStep(Math.round(firstRate * RATE_FACTOR ** i));
    if (!step.sustained) {
      failed = step;
      break;
    }
    best = step.rate;
  }
  // ×1.25 steps are coarse for a ratio: narrow the gap between the last good and the first failed
  // rate by bisection (geometric), to about 3 %.
  if (failed && best > 0) {
    let low = best;
    let high = failed.rate;
    for (let k = 0; k < REFINE_STEPS; k++) {
      const step = await tryStep(Math.round(Math.sqrt(low * high)));
      if (step.sustained) {
        low = step.rate;
        best = step.rate;
      } else {
        high = step.rate;
        failed = step;
      }
    }
  }
  const limitedBy = failed === null ? "ceiling" : failed.loadOk ? "lag" : "load";
  return { maxSustainedRate: best, limitedBy, steps };
}

export async function lagAt(rig: IncrementalRig, rate: number, seconds: number): Promise<LagResult> {
  const { gen, probe } = rig;
  await caughtUp(gen, probe, 30_000);
  probe.take();
  const cpuBefore = rig.cpuSeconds();
  const load = await gen.run(rate, seconds);
  const samples = probe.take();
  await caughtUp(gen, probe, 30_000);
  return {
    rate,
    cpuMicrosPerOp: ((rig.cpuSeconds() - cpuBefore) * 1e6) / load.sent,
    samples: samples.length,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: samples.length ? Math.max(...samples) : Number.NaN,
  };
}

export interface IncrementalRig {
  source: RedisProc;
  gen: LoadGenerator;
  probe: LagProbe;
  peakRssBytes(): number;
  /** CPU seconds used so far by the replica side (ferry's process, or the native replica's). */
  cpuSeconds(): number;
  /** Processes of the replica side: ferry and the target, or the native replica. */
  replicaSidePids(): number[];
  close(): Promise<void>;
}

/** Source → ferry sync → target, ferry streaming (the snapshot of the empty source is done). */
export async function ferryRig(
  extraArgs: string[] = [],
  opts: { cpuProfDir?: string } = {},
): Promise<IncrementalRig> {
  const source = await startRedis();
  const target = await startRedis();
  const run = startFerry(ferrySyncArgs(source.url, target.url, extraArgs), opts);
  const gen = await LoadGenerator.connect(source.port);
  const probe = new LagProbe(target.client());
  probe.start();
  const ready = await caughtUp(gen, probe, 30_000);
  if (!Number.isFinite(ready))
    throw new Error(`ferry did not start streaming:\n${run.stderr().slice(-4000)}`);
  return {
    source,
    gen,
    probe,
    peakRssBytes: () => run.sample().peakRssBytes,
    cpuSeconds: () => run.sample().cpuSeconds,
    replicaSidePids: () => [run.child.pid!, target.pid()],
    async close() {
      probe.stop();
      gen.close();
      run.child.kill("SIGINT");
      await run.exited;
      await Promise.all([source.stop(), target.stop()]);
    },
  };
}

/** Source → native replica (REPLICAOF). */
export async function nativeRig(): Promise<IncrementalRig> {
  const source = await startRedis();
  const replica = await startRedis({ replicaOf: source });
  const gen = await LoadGenerator.connect(source.port);
  const probe = new LagProbe(replica.client());
  probe.start();
  const ready = await caughtUp(gen, probe, 30_000);
  if (!Number.isFinite(ready)) throw new Error("native replica did not start streaming");
  return {
    source,
    gen,
    probe,
    peakRssBytes: () => readProc(replica.pid()).peakRssBytes,
    cpuSeconds: () => readProc(replica.pid()).cpuSeconds,
    replicaSidePids: () => [replica.pid()],
    async close() {
      probe.stop();
      gen.close();
      await Promise.all([source.stop(), replica.stop()]);
    },
  };
}

/**
 * The "split cores" layout: the load generator (this process) and the source on CPU 0, the replica
 * side (ferry + target, or the native replica) on CPU 1, each side as if on its own host — which is
 * how a migration runs. The native replica gets a core to itself; ferry shares its core with the
 * target. Every thread is pinned (`taskset -a`). Returns the undo for this process, which outlives
 * the rig. Null when the machine cannot do it (one CPU, no taskset).
 */
export function splitCores(rig: IncrementalRig): (() => void) | null {
  const cpuCount = cpus().length;
  if (cpuCount < 2) return null;
  const pin = (cpu: string, pid: number) => execFileSync("taskset", ["-a", "-cp", cpu, String(pid)]);
  try {
    pin("0", process.pid);
    pin("0", rig.source.pid());
    for (const pid of rig.replicaSidePids()) pin("1", pid);
  } catch {
    return null;
  }
  return () => pin(`0-${cpuCount - 1}`, process.pid);
}

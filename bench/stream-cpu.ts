/**
 * The stream's CPU cost at one fixed rate, for comparing two builds of the stream path quickly:
 * source → ferry sync → target with a paced load, then ferry's user/system CPU per command (from
 * /proc/<pid>/stat), the target's and the source's, ferry's read/write syscalls and the lag. The
 * ladder in incremental.ts answers "how fast at most"; this answers "how much CPU per op", which
 * moves far less with outside load.
 *
 *   npx tsx bench/stream-cpu.ts [rate=600000] [seconds=6] [--cpu-prof <dir>] [-- <ferry sync args>]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { bundleCli } from "../functions/cli/bundle.ts";
import { startRedis, waitFor } from "../test/helpers/redis.ts";
import { LoadGenerator } from "./lib/load.ts";
import { LagProbe, percentile } from "./lib/probe.ts";
import { ferrySyncArgs, readProc, startFerry } from "./lib/proc.ts";

const { values, positionals } = parseArgs({
  options: { "cpu-prof": { type: "string" } },
  allowPositionals: true,
});
const rate = Number(positionals[0] ?? 600_000);
const seconds = Number(positionals[1] ?? 6);
const ferryArgs = positionals.slice(2);

/** utime and stime of a process, in seconds. */
function cpuTimes(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

function syscalls(pid: number): { reads: number; writes: number } {
  const text = readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(text)?.[1]);
  return { reads: field("syscr"), writes: field("syscw") };
}

await bundleCli({ root: new URL("..", import.meta.url).pathname });
const source = await startRedis();
const target = await startRedis();
const run = startFerry(
  ferrySyncArgs(source.url, target.url, ferryArgs),
  values["cpu-prof"] ? { cpuProfDir: values["cpu-prof"] } : {},
);
const gen = await LoadGenerator.connect(source.port);
const probe = new LagProbe(target.client());
try {
  probe.start();
  gen.probe();
  await waitFor(() => probe.seenSeq >= gen.probes, 30_000, 5);
  await gen.run(50_000, 1); // warm-up: JIT, buffers, the first transactions
  await gen.settle();

  const pid = run.child.pid!;
  const before = {
    ferry: cpuTimes(pid),
    io: syscalls(pid),
    target: readProc(target.pid()).cpuSeconds,
    source: readProc(source.pid()).cpuSeconds,
  };
  probe.take();
  const load = await gen.run(rate, seconds);
  const lags = probe.take();
  gen.probe();
  const caughtUpFrom = performance.now();
  await waitFor(() => probe.seenSeq >= gen.probes, 60_000, 2);
  const catchUpMs = performance.now() - caughtUpFrom;
  const after = {
    ferry: cpuTimes(pid),
    io: syscalls(pid),
    target: readProc(target.pid()).cpuSeconds,
    source: readProc(source.pid()).cpuSeconds,
  };

  const perOp = (cpuSeconds: number) => `${((cpuSeconds * 1e6) / load.sent).toFixed(2)} µs`;
  const ferryUser = after.ferry.user - before.ferry.user;
  const ferrySystem = after.ferry.system - before.ferry.system;
  console.log(
    [
      `rate ${rate} ops/s for ${seconds} s: achieved ${Math.round(load.achievedRate)}`,
      `CPU per op: ferry ${perOp(ferryUser + ferrySystem)} (user ${perOp(ferryUser)}, system ${perOp(ferrySystem)}), target ${perOp(after.target - before.target)}, source ${perOp(after.source - before.source)}`,
      `ferry syscalls: ${after.io.reads - before.io.reads} reads, ${after.io.writes - before.io.writes} writes`,
      `lag p50 ${percentile(lags, 50).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms; caught up ${catchUpMs.toFixed(0)} ms after the load`,
      `ferry peak RSS ${(run.sample().peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    ].join("\n"),
  );
} finally {
  probe.stop();
  gen.close();
  run.child.kill("SIGINT");
  await run.exited;
  await Promise.all([source.stop(), target.stop()]);
}

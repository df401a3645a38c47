/**
 * The native side of bench/stream-cpu.ts: a source and a native replica (REPLICAOF) under the same
 * paced load, and the CPU each spends per op, with the load generator's own. Together they give
 * the CPU budget behind the stream ratio (bench/README.md, "The stream ratio on two shared cores").
 *
 *   npx tsx bench/native-cpu.ts [rate=800000]
 */
import { nativeRig } from "./incremental.ts";
import { readProc } from "./lib/proc.ts";

const rate = Number(process.argv[2] ?? 800_000);
// The ladder's native rig: source, replica (REPLICAOF), generator and lag probe, caught up.
const rig = await nativeRig();
try {
  await rig.gen.run(50_000, 1); // warm-up
  await rig.gen.settle();
  const before = { source: readProc(rig.source.pid()).cpuSeconds, replica: rig.cpuSeconds() };
  const generator = process.cpuUsage();
  const load = await rig.gen.run(rate, 6);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const own = process.cpuUsage(generator);
  const per = (seconds: number) => ((seconds * 1e6) / load.sent).toFixed(2);
  console.log(
    `native @${Math.round(load.achievedRate)}: source ${per(readProc(rig.source.pid()).cpuSeconds - before.source)} µs/op, replica ${per(rig.cpuSeconds() - before.replica)} µs/op, generator (and lag probe) ${per((own.user + own.system) / 1e6)} µs/op`,
  );
} finally {
  await rig.close();
}

/**
 * The big-key run's peak RSS, repeated: one source filled once (the default dataset plus one
 * 200 MiB list, as in `npm run bench`), then `ferry sync --until-synced` N times into fresh
 * targets. A single run's peak moves by ±20 MiB with when V8 and glibc happen to give memory back,
 * so comparing two builds on one run each says little; min / median / max over N runs does.
 *
 *   npx tsx bench/memory-repeat.ts [runs=5] [-- <ferry sync args>]
 *
 * FERRY_BENCH_NODE_ARGS passes V8 flags to the ferry child (bench/lib/proc.ts).
 */
import { fileURLToPath } from "node:url";
import { bundleCli } from "../functions/cli/bundle.ts";
import { startRedis } from "../test/helpers/redis.ts";
import { addBigList, fillDataset, SIZES } from "./lib/dataset.ts";
import { warmUpFerry } from "./lib/proc.ts";
import { fmt } from "./lib/report.ts";
import { ferrySnapshot, rdbSize } from "./snapshot.ts";

const runs = Number(process.argv[2] ?? 5);
const ferryArgs = process.argv.slice(3).filter((arg) => arg !== "--");

await bundleCli({ root: fileURLToPath(new URL("..", import.meta.url)) });
await warmUpFerry();
const source = await startRedis();
try {
  const { keys, bigKeyElements } = SIZES.default;
  await fillDataset(source.client(), keys, bigKeyElements);
  await addBigList(source.client(), "huge:list", 200 * 2 ** 20);
  const rdbBytes = await rdbSize(source);
  console.log(`dataset: ${keys} keys + 4 big keys + one 200 MiB list, ${fmt.mib(rdbBytes)} of RDB`);
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ferry = await ferrySnapshot(source, rdbBytes, ferryArgs);
    if (!ferry.keysMatch) throw new Error("the target does not hold every key");
    peaks.push(ferry.peakRssBytes);
    console.log(
      `run ${i + 1}: ${fmt.s(ferry.seconds)}, peak RSS ${fmt.mib(ferry.peakRssBytes)}, CPU ${fmt.s(ferry.cpuSeconds)}, disk ${ferry.diskWriteBytes} B`,
    );
  }
  const sorted = [...peaks].sort((a, b) => a - b);
  console.log(
    `peak RSS over ${runs} runs: min ${fmt.mib(sorted[0]!)}, median ${fmt.mib(sorted[Math.floor(runs / 2)]!)}, max ${fmt.mib(sorted[runs - 1]!)}`,
  );
} finally {
  await source.stop();
}

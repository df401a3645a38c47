/**
 * The native side of bench/stream-cpu.ts: a source and a native replica (REPLICAOF) under the same
 * paced load, and the CPU each spends per op, with the load generator's own. Together they give
 * the CPU budget behind the stream ratio (bench/README.md, "The stream ratio on two shared cores").
 *
 *   npx tsx bench/native-cpu.ts [rate=800000]
 */
import { startRedis, waitFor } from "../test/helpers/redis.ts";
import { LoadGenerator } from "./lib/load.ts";
import { readProc } from "./lib/proc.ts";

const rate = Number(process.argv[2] ?? 800_000);
const source = await startRedis();
const replica = await startRedis();
await replica.client().call("REPLICAOF", "127.0.0.1", String(source.port));
await waitFor(
  async () => (await replica.client().info("replication")).includes("master_link_status:up"),
  20000,
);
const gen = await LoadGenerator.connect(source.port);
await gen.run(50_000, 1);
await gen.settle();
const b = {
  s: readProc(source.pid()).cpuSeconds,
  r: readProc(replica.pid()).cpuSeconds,
  g: process.cpuUsage(),
};
const load = await gen.run(rate, 6);
await new Promise((r) => setTimeout(r, 200));
const g = process.cpuUsage(b.g);
const per = (s: number) => ((s * 1e6) / load.sent).toFixed(2);
console.log(
  `native @${Math.round(load.achievedRate)}: source ${per(readProc(source.pid()).cpuSeconds - b.s)} µs/op, replica ${per(readProc(replica.pid()).cpuSeconds - b.r)} µs/op, generator ${per((g.user + g.system) / 1e6)} µs/op`,
);
gen.close();
await Promise.all([source.stop(), replica.stop()]);

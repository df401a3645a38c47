/**
 * Quick `ferry sync` rates for issue #4 (the full comparison with a native replica is `npm run bench`):
 *
 * - snapshot: a mid-size mixed dataset copied by the real CLI with --until-synced → keys/s, MB/s of
 *   RDB, peak RSS (VmHWM) of the ferry process;
 * - incremental apply: with the target stalled (a proxy holds its traffic), N writes are made on the
 *   source and read into ferry's queue; then the target is released and the time until lag 0 gives
 *   the apply rate alone, not the rate of the load generator.
 *
 * Run: npx tsx bench/sync-rates.ts [keys=200000] [writes=200000]
 */
import { Redis } from "ioredis";
import { startProxy } from "../test/helpers/proxy.ts";
import { freePort, startRedis, waitFor } from "../test/helpers/redis.ts";
import { differences, runFerry } from "../test/sync/setup.ts";
import { fillDataset } from "./lib/dataset.ts";
import { rdbSize } from "./snapshot.ts";

const keys = Number(process.argv[2] ?? 200_000);
const writes = Number(process.argv[3] ?? 200_000);
const MB = 1e6;

const [source, target] = await Promise.all([startRedis(), startRedis()]);
try {
  const src = source.client();
  const filled = await fillDataset(src, keys, 1000);
  const rdbBytes = await rdbSize(source);

  // ── snapshot ──
  const started = performance.now();
  const snap = runFerry(["sync", "--source", source.url, "--target", target.url, "--until-synced"]);
  const code = await snap.exited;
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`ferry sync exited with ${code}: ${snap.stderr().slice(-2000)}`);
  const dst = target.client();
  const diffs = await differences(src, dst, [0]);
  console.log(
    JSON.stringify({
      scenario: "snapshot",
      keys: filled.keys,
      rdbMB: Number((rdbBytes / MB).toFixed(1)),
      seconds: Number(seconds.toFixed(2)),
      keysPerSecond: Math.round(filled.keys / seconds),
      mbPerSecond: Number((rdbBytes / MB / seconds).toFixed(1)),
      peakRssMiB: Math.round(snap.peakRssKiB() / 1024),
      identical: diffs.length === 0,
    }),
  );

  // ── incremental apply ──
  const proxy = await startProxy(target);
  const port = await freePort();
  const live = runFerry([
    "sync",
    "--source",
    source.url,
    "--target",
    proxy.url,
    "--job",
    "bench-incremental",
    "--status-port",
    String(port),
    "--queue-size",
    "256mb",
  ]);
  const status = async () =>
    (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
      phase: string;
      shards: Array<{ appliedOffset: number; receivedOffset: number }>;
    };
  const masterOffset = async () =>
    Number(/master_repl_offset:(\d+)/.exec(await src.info("replication"))?.[1] ?? -1);
  await waitFor(async () => (await status()).phase === "streaming", 120_000, 200);
  await waitFor(async () => (await status()).shards[0]!.appliedOffset === (await masterOffset()), 60_000);

  proxy.stall();
  const writer = new Redis(source.url);
  const loadStarted = performance.now();
  for (let i = 0; i < writes; i += 1000) {
    const p = writer.pipeline();
    for (let j = i; j < Math.min(i + 1000, writes); j++) {
      if (j % 3 === 0) p.incr(`inc:${j % 5000}`);
      else if (j % 3 === 1) p.set(`set:${j % 20000}`, `value-${j}`);
      else p.lpush(`list:${j % 1000}`, `e${j}`);
    }
    await p.exec();
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const target0 = await masterOffset();
  await waitFor(async () => (await status()).shards[0]!.receivedOffset === target0, 120_000, 100);
  const applyStarted = performance.now();
  proxy.unstall();
  await waitFor(async () => (await status()).shards[0]!.appliedOffset === target0, 300_000, 20);
  const applySeconds = (performance.now() - applyStarted) / 1000;
  live.child.kill("SIGTERM");
  await live.exited;
  writer.disconnect();
  await proxy.close();
  const incDiffs = await differences(src, dst, [0]);
  console.log(
    JSON.stringify({
      scenario: "incremental-apply",
      writes,
      sourceWriteOpsPerSecond: Math.round(writes / loadSeconds),
      applySeconds: Number(applySeconds.toFixed(2)),
      applyOpsPerSecond: Math.round(writes / applySeconds),
      peakRssMiB: Math.round(live.peakRssKiB() / 1024),
      identical: incDiffs.length === 0,
    }),
  );
} finally {
  await Promise.all([source.stop(), target.stop()]);
}

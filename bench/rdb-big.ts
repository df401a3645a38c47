/**
 * Big-key RDB parse bench: a real server writes one 200 MB list and one 100 MB string, then the
 * dump is parsed fed 1 MiB at a time with a 16 MiB big-key threshold. Prints throughput and the
 * peak of heapUsed + arrayBuffers. Run: npx tsx bench/rdb-big.ts
 */
import { startRedis } from "../test/helpers/redis.ts";
import { buildBigDump, parseBigDump } from "../test/rdb/bigDump.ts";

const MiB = 1024 * 1024;
const server = await startRedis();
try {
  const built = performance.now();
  const dump = await buildBigDump(server, 200 * MiB, 100 * MiB);
  console.log(`dump written in ${((performance.now() - built) / 1000).toFixed(1)} s`);
  const r = parseBigDump(dump.path, { bigKeyThreshold: 16 * MiB, chunkBytes: MiB }, MiB);
  const ok =
    r.listElements === dump.listElements &&
    r.stringBytes === dump.stringBytes &&
    r.stringCrc === dump.stringCrc;
  console.log(
    JSON.stringify({
      fileMiB: Math.round(r.fileBytes / MiB),
      seconds: Number(r.seconds.toFixed(2)),
      mibPerSecond: Math.round(r.fileBytes / MiB / r.seconds),
      peakMemoryMiB: Math.round(r.peakMemory / MiB),
      valuesMatch: ok,
    }),
  );
  if (!ok) process.exitCode = 1;
} finally {
  await server.stop();
}

/**
 * Snapshot scenario: the same source copied by `ferry sync --until-synced` into an empty target and
 * by a native `replicaof` into an empty redis-server; wall time until the keyspace matches, keys/s,
 * MB/s of RDB, ferry's peak RSS and disk writes.
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import type { RedisProc } from "../test/helpers/redis.ts";
import { startRedis, waitFor } from "../test/helpers/redis.ts";
import { markerKeys, replicationField, totalKeys } from "./lib/keyspace.ts";
import { ferrySyncArgs, readProc, startFerry } from "./lib/proc.ts";

export interface SnapshotFigures {
  seconds: number;
  keysPerSecond: number;
  mbPerSecond: number;
  keysMatch: boolean;
}

export interface FerrySnapshotFigures extends SnapshotFigures {
  peakRssBytes: number;
  diskWriteBytes: number;
  rdbBytes: number;
  /** ferry's user+system CPU per source key: the figure to compare fixes with on a busy machine. */
  cpuSeconds: number;
  cpuMicrosPerKey: number;
  /** CPU the target and the source spent meanwhile (where the rest of the wall time went). */
  targetCpuSeconds: number;
  sourceCpuSeconds: number;
}

/** Size of the source's RDB (SAVE, then the file): the bytes a full resync transfers. */
export async function rdbSize(source: RedisProc): Promise<number> {
  await source.client().call("SAVE");
  const path = join(source.dir, "dump.rdb");
  const bytes = statSync(path).size;
  rmSync(path);
  return bytes;
}

export async function ferrySnapshot(
  source: RedisProc,
  rdbBytes: number,
  extraArgs: string[] = [],
  opts: { cpuProfDir?: string } = {},
): Promise<FerrySnapshotFigures> {
  const target = await startRedis();
  try {
    const expected = await totalKeys(source.client());
    const targetCpu = readProc(target.pid()).cpuSeconds;
    const sourceCpu = readProc(source.pid()).cpuSeconds;
    const started = performance.now();
    const run = startFerry(ferrySyncArgs(source.url, target.url, ["--until-synced", ...extraArgs]), opts);
    const code = await run.exited;
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`ferry sync exited with ${code}:\n${run.stderr().slice(-4000)}`);
    const sample = run.sample();
    const targetCpuSeconds = readProc(target.pid()).cpuSeconds - targetCpu;
    const sourceCpuSeconds = readProc(source.pid()).cpuSeconds - sourceCpu;
    const client = target.client();
    const copied = (await totalKeys(client)) - (await markerKeys(client));
    return {
      seconds,
      keysPerSecond: expected / seconds,
      mbPerSecond: rdbBytes / 1e6 / seconds,
      keysMatch: copied === expected,
      peakRssBytes: sample.peakRssBytes,
      diskWriteBytes: sample.writeBytes,
      rdbBytes,
      cpuSeconds: sample.cpuSeconds,
      cpuMicrosPerKey: (sample.cpuSeconds * 1e6) / expected,
      targetCpuSeconds,
      sourceCpuSeconds,
    };
  } finally {
    await target.stop();
  }
}

/** `REPLICAOF master`, then wait until the link is up and the replica holds `expected` keys. */
export async function replicateFully(
  client: Redis,
  master: { host: string; port: number },
  expected: number,
): Promise<void> {
  await client.replicaof(master.host, master.port);
  await waitFor(
    async () =>
      (await replicationField(client, "master_link_status")) === "up" &&
      (await totalKeys(client)) === expected,
    600_000,
    10,
  );
}

/** A native replica: REPLICAOF, then wait for link up and the same number of keys. */
export async function nativeSnapshot(source: RedisProc, rdbBytes: number): Promise<SnapshotFigures> {
  const replica = await startRedis();
  try {
    const expected = await totalKeys(source.client());
    const client = replica.client();
    const started = performance.now();
    await replicateFully(client, source, expected);
    const seconds = (performance.now() - started) / 1000;
    await client.replicaof("NO", "ONE");
    return {
      seconds,
      keysPerSecond: expected / seconds,
      mbPerSecond: rdbBytes / 1e6 / seconds,
      keysMatch: true,
    };
  } finally {
    await replica.stop();
  }
}

/**
 * The writer Lambda's TargetWriter factory against real targets: a standalone redis-server and a
 * 3-master cluster (the factory must pick the cluster writer, or multi-slot batches would CROSSSLOT).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryJobStore } from "../../core/adapters/memory/jobStore.ts";
import { FatalError } from "../../core/errors.ts";
import type { Endpoint, JobSpec } from "../../core/jobs/spec.ts";
import type { Batch } from "../../core/model.ts";
import { ClusterWriter } from "../../core/writer/cluster.ts";
import { StandaloneWriter } from "../../core/writer/standalone.ts";
import { AwsSecretResolver } from "../../functions/aws/secrets.ts";
import { createTargetWriters } from "../../functions/aws/targetWriters.ts";
import { type RedisClusterProc, type RedisProc, startCluster, startRedis } from "../helpers/redis.ts";

let standalone: RedisProc;
let cluster: RedisClusterProc;
const dir = mkdtempSync(join(tmpdir(), "ferry-secrets-"));

beforeAll(async () => {
  [standalone, cluster] = await Promise.all([
    startRedis({ password: "s3cret" }),
    startCluster({ masters: 3 }),
  ]);
});
afterAll(async () => {
  await standalone?.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function jobsWith(targets: Record<string, Endpoint>) {
  const jobs = new MemoryJobStore<JobSpec>();
  const now = new Date().toISOString();
  for (const [id, target] of Object.entries(targets)) {
    await jobs.create({
      id,
      state: "streaming",
      version: 1,
      spec: { source: "redis://source:6379", target, mode: "full+incremental" },
      status: {},
      createdAt: now,
      updatedAt: now,
      labels: {},
    });
  }
  return jobs;
}

const streamBatch = (job: string, keys: string[]): Batch => ({
  job,
  shard: "s1",
  replid: "c".repeat(40),
  kind: "stream",
  first: 10,
  last: 10 + keys.length - 1,
  commands: keys.map((k, i) => ({
    argv: [Buffer.from("SET"), Buffer.from(k), Buffer.from("v")],
    db: 0,
    offset: 10 + i,
  })),
  bytes: 10,
});

describe("createTargetWriters", () => {
  it("opens one writer per job from a secret reference, reuses it, and picks the cluster writer for a cluster", async () => {
    const secretFile = join(dir, "target-url");
    writeFileSync(secretFile, `${standalone.url}\n`);
    const jobs = await jobsWith({
      single: { secret: { file: secretFile } },
      clustered: cluster.url,
    });
    const writers = createTargetWriters({ jobs, secrets: new AwsSecretResolver({ env: {} }) });
    try {
      const single = await writers.forJob("single");
      expect(single).toBeInstanceOf(StandaloneWriter);
      expect(await writers.forJob("single")).toBe(single);
      await single.apply(streamBatch("single", ["a"]));
      expect(await standalone.client().get("a")).toBe("v");

      const clustered = await writers.forJob("clustered");
      expect(clustered).toBeInstanceOf(ClusterWriter);
      // Keys in different slots of different masters: one batch, applied across the cluster.
      const keys = ["alpha", "bravo", "charlie", "delta", "echo"];
      await clustered.apply(streamBatch("clustered", keys));
      const client = cluster.client();
      for (const k of keys) expect(await client.get(k)).toBe("v");
    } finally {
      await writers.closeAll();
    }
  });

  it("an unknown job or a missing secret is a FatalError, and is not cached", async () => {
    const jobs = await jobsWith({ nosecret: { secret: { env: "FERRY_MISSING_TARGET" } } });
    const env: Record<string, string | undefined> = {};
    const writers = createTargetWriters({ jobs, secrets: new AwsSecretResolver({ env }) });
    await expect(writers.forJob("ghost")).rejects.toBeInstanceOf(FatalError);
    await expect(writers.forJob("nosecret")).rejects.toThrow(/FERRY_MISSING_TARGET is not set/);
    // Fixed in the meantime: the same factory retries the open on the next message.
    env["FERRY_MISSING_TARGET"] = standalone.url;
    expect(await writers.forJob("nosecret")).toBeInstanceOf(StandaloneWriter);
    await writers.closeAll();
  });
});

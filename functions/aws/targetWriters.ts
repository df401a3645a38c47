/**
 * One TargetWriter per job, created on first use and kept for the life of the Lambda container, so
 * the target connection is reused across invocations instead of reconnecting per message. The
 * writers open their ioredis connections long-lived (connectRedis `longLived`, core/connect/longLived.ts):
 * a target restart between two invocations is ridden out, and a command in flight when the target
 * goes away fails at once (the message is reported failed and retried) instead of running into the
 * Lambda timeout.
 */
import { connectRedis } from "../../core/connect/client.ts";
import { detectTopology } from "../../core/connect/topology.ts";
import { parseRedisUrl } from "../../core/connect/url.ts";
import { FatalError } from "../../core/errors.ts";
import type { JobSpec } from "../../core/jobs/spec.ts";
import type { JobStore } from "../../core/ports.ts";
import type { RedisEndpoint } from "../../core/replication/types.ts";
import { ClusterWriter } from "../../core/writer/cluster.ts";
import { createStandaloneWriter } from "../../core/writer/standalone.ts";
import type { TargetWriter } from "../../core/writer/types.ts";
import { endpointUrl, type SecretResolver } from "./secrets.ts";

export type CreateWriter = (target: RedisEndpoint) => Promise<TargetWriter>;

export interface TargetWriters {
  forJob(job: string): Promise<TargetWriter>;
  /** Drop a job's writer (after a connection error, so the next message reconnects). */
  evict(job: string): Promise<void>;
  closeAll(): Promise<void>;
}

/** Standalone or cluster writer, chosen by asking the target (CLUSTER INFO / INFO). */
export const createWriterForTarget: CreateWriter = async (target) => {
  const probe = await connectRedis(target, { name: "ferry-writer-probe" });
  try {
    const topology = await detectTopology(probe, target);
    if (topology.kind === "cluster") return await ClusterWriter.connect({ endpoint: target });
  } finally {
    probe.disconnect();
  }
  return createStandaloneWriter({ target });
};

export function createTargetWriters(deps: {
  jobs: Pick<JobStore<JobSpec>, "get">;
  secrets: SecretResolver;
  createWriter?: CreateWriter;
}): TargetWriters {
  const createWriter = deps.createWriter ?? createWriterForTarget;
  const writers = new Map<string, Promise<TargetWriter>>();

  const open = async (job: string): Promise<TargetWriter> => {
    const record = await deps.jobs.get(job);
    if (!record)
      throw new FatalError(
        `job ${job} not found in the job table`,
        "the job was deleted; drain its messages",
      );
    const url = await endpointUrl(record.spec.target, deps.secrets);
    // env: {} — the Lambda's own environment must not leak credentials into another job's target.
    return createWriter(parseRedisUrl(url, { role: "target", env: {} }));
  };

  return {
    forJob(job) {
      let writer = writers.get(job);
      if (!writer) {
        writer = open(job);
        writers.set(job, writer);
        // A failed open is not cached: the next message tries again.
        writer.catch(() => writers.delete(job));
      }
      return writer;
    },
    async evict(job) {
      const writer = writers.get(job);
      writers.delete(job);
      if (writer) await (await writer.catch(() => null))?.close();
    },
    async closeAll() {
      const all = [...writers.values()];
      writers.clear();
      for (const w of all) await (await w.catch(() => null))?.close();
    },
  };
}

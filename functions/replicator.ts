/**
 * Fargate entry of the replicator (infra/replicator.Dockerfile): one process per source master of
 * one job. It reads the job from DynamoDB, the endpoints' URLs from Secrets Manager / SSM, and runs
 * a ReplicatorRuntime (core/jobs/replicatorRuntime.ts) that sends batches to the SQS FIFO queue;
 * the writer Lambda applies them.
 *
 * Environment (set by the stack on the task definition, and per task by the API's RunTask):
 *   FERRY_JOBS_TABLE, FERRY_OFFSETS_TABLE, FERRY_QUEUE_URL   stack resources
 *   FERRY_JOB_ID           job id (or --job)
 *   FERRY_SHARD            `standalone` (default) or the cluster shard id (or --shard)
 *   FERRY_SHARD_COUNT      shards of the job (default 1)
 *   FERRY_SOURCE_ADDRESS   cluster source: host:port of this shard's master (or --source)
 *   FERRY_TASK_ID          shown in the job's events (the API passes the task's ARN when it knows it)
 *   FERRY_HEARTBEAT_MS     job store heartbeat (default 5000)
 *
 * Stop: Fargate sends SIGTERM and kills after stopTimeout (120 s). On SIGTERM the process stops
 * reading, sends what it read to SQS, records its progress and exits 0; the next task resumes by
 * PSYNC from the applied offset. A job paused, finished or deleted through the API stops it too.
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoJobStore, DynamoOffsetStore } from "../core/adapters/dynamodb/index.ts";
import { SqsBatchQueue } from "../core/adapters/sqs/index.ts";
import { FatalError, FerryError } from "../core/errors.ts";
import {
  assertShardCount,
  type ReplicatorOutcome,
  ReplicatorRuntime,
} from "../core/jobs/replicatorRuntime.ts";
import type { JobSpec } from "../core/jobs/spec.ts";
import type { StoredStatus } from "../core/jobs/view.ts";
import { createLogger, type Logger } from "../core/observability/logger.ts";
import { AwsSecretResolver, endpointUrl } from "./aws/secrets.ts";
import { createWriterForTarget } from "./aws/targetWriters.ts";

/** Below Fargate's 120 s stopTimeout: exit on our own terms rather than be SIGKILLed mid-send. */
const STOP_DEADLINE_MS = 110_000;

export interface ReplicatorArgs {
  job: string;
  shard: string;
  shardCount: number;
  source?: { host: string; port: number };
  jobsTable: string;
  offsetsTable: string;
  queueUrl: string;
  taskId?: string;
  heartbeatMs?: number;
}

export function parseReplicatorArgs(argv: string[], env: NodeJS.ProcessEnv): ReplicatorArgs {
  const { values } = parseArgs({
    args: argv,
    options: { job: { type: "string" }, shard: { type: "string" }, source: { type: "string" } },
    strict: true,
  });
  const need = (name: string, value: string | undefined): string => {
    if (!value)
      throw new FatalError(
        `${name} is not set`,
        "the stack sets it on the task; the API sets the job per task",
      );
    return value;
  };
  const address = values.source ?? env["FERRY_SOURCE_ADDRESS"];
  let source: ReplicatorArgs["source"];
  if (address) {
    const match = /^(.+):(\d+)$/.exec(address);
    if (!match) throw new FatalError(`source address ${address} is not host:port`, "pass e.g. 10.0.1.5:6379");
    source = { host: match[1]!, port: Number(match[2]) };
  }
  const heartbeat = env["FERRY_HEARTBEAT_MS"];
  return {
    job: need("FERRY_JOB_ID", values.job ?? env["FERRY_JOB_ID"]),
    shard: values.shard ?? env["FERRY_SHARD"] ?? "standalone",
    shardCount: assertShardCount(Number(env["FERRY_SHARD_COUNT"] ?? 1)),
    ...(source ? { source } : {}),
    jobsTable: need("FERRY_JOBS_TABLE", env["FERRY_JOBS_TABLE"]),
    offsetsTable: need("FERRY_OFFSETS_TABLE", env["FERRY_OFFSETS_TABLE"]),
    queueUrl: need("FERRY_QUEUE_URL", env["FERRY_QUEUE_URL"]),
    ...(env["FERRY_TASK_ID"] ? { taskId: env["FERRY_TASK_ID"] } : {}),
    ...(heartbeat ? { heartbeatMs: Number(heartbeat) } : {}),
  };
}

/** Runs one replicator until it stops; resolves with the process exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, log: Logger): Promise<number> {
  const args = parseReplicatorArgs(argv, env);
  // Endpoints (and credentials) come from the SDK's chain: the task role on Fargate,
  // AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS against local emulators.
  const dynamo = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const secrets = new AwsSecretResolver();
  const runtime = new ReplicatorRuntime({
    job: args.job,
    shard: args.shard,
    shardCount: args.shardCount,
    ...(args.source ? { sourceAddress: args.source } : {}),
    jobs: new DynamoJobStore<JobSpec, StoredStatus>({ client: dynamo, tableName: args.jobsTable }),
    offsets: new DynamoOffsetStore({ client: dynamo, tableName: args.offsetsTable }),
    queue: await SqsBatchQueue.connect({ client: sqs, queueUrl: args.queueUrl }),
    resolveUrl: (endpoint) => endpointUrl(endpoint, secrets),
    openTargetWriter: createWriterForTarget,
    log,
    ...(args.taskId ? { taskId: args.taskId } : {}),
    ...(args.heartbeatMs ? { heartbeatMs: args.heartbeatMs } : {}),
  });
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, "stopping: flushing read batches to the queue");
    runtime.stop();
    setTimeout(() => {
      log.error({ deadlineMs: STOP_DEADLINE_MS }, "could not flush before the stop deadline; exiting");
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  let outcome: ReplicatorOutcome;
  try {
    outcome = await runtime.run();
  } finally {
    dynamo.destroy();
    sqs.destroy();
  }
  if (outcome.reason === "failed") {
    const err = outcome.error;
    log.error(
      { error: err.message, ...(err instanceof FerryError && err.advice ? { advice: err.advice } : {}) },
      "replicator failed",
    );
    return 1;
  }
  log.info(
    outcome.reason === "job-not-running" ? { job: args.job, state: outcome.state } : { job: args.job },
    outcome.reason === "job-not-running"
      ? "the job is not running: nothing to do"
      : "stopped; batches flushed",
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const log = createLogger({ format: "json", destination: process.stdout });
  main(process.argv.slice(2), process.env, log).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      log.error(
        { error: message, ...(err instanceof FerryError ? { advice: err.advice } : {}) },
        "replicator failed",
      );
      process.exit(1);
    },
  );
}

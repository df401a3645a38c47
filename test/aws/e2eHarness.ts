/**
 * The AWS shape on one machine: the replicator as a real child process (functions/replicator.ts,
 * as Fargate runs it), SQS FIFO in local-aws-sqs, jobs and offsets in dynalite, and a poller that
 * plays Lambda's SQS event source mapping: it receives up to 10 messages, invokes the writer
 * handler with real SQSEvent records, deletes what succeeded and releases the reported failures.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import type { Redis } from "ioredis";
import { DynamoJobStore, DynamoOffsetStore } from "../../core/adapters/dynamodb/index.ts";
import type { JobSpec } from "../../core/jobs/spec.ts";
import type { StoredStatus } from "../../core/jobs/view.ts";
import { AwsSecretResolver } from "../../functions/aws/secrets.ts";
import { createTargetWriters, type TargetWriters } from "../../functions/aws/targetWriters.ts";
import { createWriterHandler, type WriterHandler } from "../../functions/writer.ts";
import { compareServers } from "../helpers/compare.ts";
import {
  createFerryTables,
  createFifoQueue,
  type Emulator,
  startDynamo,
  startSqs,
} from "../helpers/emulators.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ReplicatorProcess {
  child: ChildProcess;
  /** stdout + stderr lines (JSON log lines). */
  lines: string[];
  exited: Promise<number | null>;
}

export function spawnReplicator(env: Record<string, string>): ReplicatorProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "functions/replicator.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, lines, exited };
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const now = String(Date.now());
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attributes["ApproximateReceiveCount"] ?? "1",
      SentTimestamp: attributes["SentTimestamp"] ?? now,
      SenderId: attributes["SenderId"] ?? "local",
      ApproximateFirstReceiveTimestamp: attributes["ApproximateFirstReceiveTimestamp"] ?? now,
      ...(attributes["SequenceNumber"] ? { SequenceNumber: attributes["SequenceNumber"] } : {}),
      ...(attributes["MessageGroupId"] ? { MessageGroupId: attributes["MessageGroupId"] } : {}),
      ...(attributes["MessageDeduplicationId"]
        ? { MessageDeduplicationId: attributes["MessageDeduplicationId"] }
        : {}),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: "us-east-1",
  };
}

export interface Poller {
  invocations: number;
  failures: number;
  stop(): Promise<void>;
}

/** One consumer, one invocation at a time (FIFO: a group is never applied by two at once). */
export function startPoller(sqs: SQSClient, queueUrl: string, handler: WriterHandler): Poller {
  const queueArn = `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split("/").pop()}`;
  let running = true;
  const state: Poller = {
    invocations: 0,
    failures: 0,
    async stop() {
      running = false;
      await loop;
    },
  };
  const loop = (async () => {
    while (running) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          AttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) continue;
      const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn)) };
      state.invocations++;
      const result = await handler(event);
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      state.failures += failed.size;
      for (const message of messages) {
        const receiptHandle = message.ReceiptHandle ?? "";
        if (failed.has(message.MessageId ?? "")) {
          // Lambda leaves failures to the visibility timeout; release at once to keep the test short.
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: receiptHandle,
              VisibilityTimeout: 0,
            }),
          );
        } else {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
        }
      }
    }
  })();
  return state;
}

/** `INFO stats` counters of a master (sync_full, sync_partial_ok, …). */
export function infoNumber(info: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, "m").exec(info);
  return match ? Number(match[1]) : Number.NaN;
}

/** The offset the (only) replica last ACKed, from the master's `INFO replication`. */
export function replicaAckOffset(info: string): number | null {
  const match = /^slave0:.*offset=(\d+)/m.exec(info);
  return match ? Number(match[1]) : null;
}

/**
 * Everything an AWS-shape test runs against: source and target redis-servers, dynalite with the
 * ferry tables, a FIFO queue in local-aws-sqs, the writer Lambda's handler, and the environment a
 * replicator process needs to find them. The target URL is resolved as a secret (FERRY_E2E_TARGET):
 * job records hold only the variable's name.
 */
export interface AwsWorld {
  source: RedisProc;
  target: RedisProc;
  src: Redis;
  dst: Redis;
  dynamo: Emulator<DynamoDBClient>;
  sqs: Emulator<SQSClient>;
  queueUrl: string;
  jobs: DynamoJobStore<JobSpec, StoredStatus>;
  offsets: DynamoOffsetStore;
  secrets: AwsSecretResolver;
  writers: TargetWriters;
  handler: WriterHandler;
  /** Environment of a replicator process (functions/replicator.ts) in this world, minus the job. */
  replicatorEnv: Record<string, string>;
  /** Source and target hold the same keys, values and TTLs in db 0 and 1. */
  identical(): Promise<boolean>;
  /** Closes the writers and clients, stops every server and emulator. */
  stop(): Promise<void>;
}

export async function startAwsWorld(): Promise<AwsWorld> {
  // A backlog far larger than what the tests write: a restart must be able to +CONTINUE even
  // when the writer lags behind what a stopped replicator had read.
  const source = await startRedis({ config: { "repl-backlog-size": "64mb" } });
  const target = await startRedis();
  const src = source.client();
  const dst = target.client();
  const [dynamo, sqs] = await Promise.all([startDynamo(), startSqs()]);
  const tables = await createFerryTables(dynamo.client);
  const queueUrl = await createFifoQueue(sqs.client, 30);
  const jobs = new DynamoJobStore<JobSpec, StoredStatus>({ client: dynamo.client, tableName: tables.jobs });
  const offsets = new DynamoOffsetStore({ client: dynamo.client, tableName: tables.offsets });
  const secrets = new AwsSecretResolver({ env: { FERRY_E2E_TARGET: target.url } });
  const writers = createTargetWriters({ jobs, secrets });
  return {
    source,
    target,
    src,
    dst,
    dynamo,
    sqs,
    queueUrl,
    jobs,
    offsets,
    secrets,
    writers,
    handler: createWriterHandler({ offsets, writers, log: () => {} }),
    replicatorEnv: {
      FERRY_JOBS_TABLE: tables.jobs,
      FERRY_OFFSETS_TABLE: tables.offsets,
      FERRY_QUEUE_URL: queueUrl,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      FERRY_E2E_TARGET: target.url,
      FERRY_HEARTBEAT_MS: "300",
    },
    identical: async () => (await compareServers(src, dst, { dbs: [0, 1] })).length === 0,
    async stop() {
      await writers.closeAll();
      src.disconnect();
      dst.disconnect();
      await Promise.all([source.stop(), target.stop(), dynamo.stop(), sqs.stop()]);
    },
  };
}

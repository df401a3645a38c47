/**
 * In-process AWS emulators for contract and handler tests: dynalite (DynamoDB) and local-aws-sqs
 * (SQS, including FIFO queues). Both listen on a free loopback port; `stop()` closes the server.
 * Clients point at them with dummy credentials, so no AWS account or network is involved.
 */
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createSqsServer } from "local-aws-sqs";
import { jobsTableDefinition, offsetsTableDefinition } from "../../core/adapters/dynamodb/schema.ts";
import { freePort } from "./redis.ts";

// dynalite ships no type declarations; this is the part of its API used here.
const dynalite = createRequire(import.meta.url)("dynalite") as (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export interface Emulator<C> {
  endpoint: string;
  client: C;
  stop(): Promise<void>;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** An emulator listening on a free loopback port, with a client pointed at it (closed by stop()). */
async function serve<C extends { destroy(): void }>(
  listen: (port: number) => Promise<Server>,
  connect: (config: {
    endpoint: string;
    region: string;
    credentials: typeof CREDENTIALS;
    maxAttempts: number;
  }) => C,
): Promise<Emulator<C>> {
  const port = await freePort();
  const server = await listen(port);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = connect({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await close(server);
    },
  };
}

export function startDynamo(): Promise<Emulator<DynamoDBClient>> {
  return serve(
    async (port) => {
      // createTableMs 0: tables are ACTIVE at once instead of after dynalite's default 500 ms.
      const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
      return server;
    },
    (config) => new DynamoDBClient(config),
  );
}

let tableSeq = 0;
/** Fresh offsets + jobs tables with unique names (one emulator can serve many tests). */
export async function createFerryTables(client: DynamoDBClient): Promise<{ offsets: string; jobs: string }> {
  const n = ++tableSeq;
  const names = { offsets: `ferry-offsets-${n}`, jobs: `ferry-jobs-${n}` };
  await client.send(new CreateTableCommand(offsetsTableDefinition(names.offsets)));
  await client.send(new CreateTableCommand(jobsTableDefinition(names.jobs)));
  return names;
}

export function startSqs(): Promise<Emulator<SQSClient>> {
  return serve(
    (port) =>
      createSqsServer({
        port,
        hostname: "127.0.0.1",
        // Tests create queues with unique names; AWS's 60 s delete-then-recreate rule only slows them.
        emulateQueueCreationLifecycle: false,
      }),
    (config) => new SQSClient(config),
  );
}

let queueSeq = 0;
/** A FIFO queue with the attributes infra sets (1 MiB messages, explicit dedup ids). */
export async function createFifoQueue(
  client: SQSClient,
  visibilityTimeoutSeconds = 30,
  maximumMessageSize = 1_048_576,
): Promise<string> {
  const out = await client.send(
    new CreateQueueCommand({
      QueueName: `ferry-test-${process.pid}-${++queueSeq}.fifo`,
      Attributes: {
        FifoQueue: "true",
        ContentBasedDeduplication: "false",
        MaximumMessageSize: String(maximumMessageSize),
        VisibilityTimeout: String(visibilityTimeoutSeconds),
      },
    }),
  );
  if (!out.QueueUrl) throw new Error("CreateQueue returned no QueueUrl");
  return out.QueueUrl;
}

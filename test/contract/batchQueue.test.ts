import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll } from "vitest";
import { MemoryBatchQueue } from "../../core/adapters/memory/batchQueue.ts";
import { SqsBatchQueue } from "../../core/adapters/sqs/batchQueue.ts";
import { createFifoQueue, type Emulator, startSqs } from "../helpers/emulators.ts";
import { runBatchQueueContract } from "./batchQueue.contract.ts";

let sqs: Emulator<SQSClient>;

beforeAll(async () => {
  sqs = await startSqs();
});
afterAll(async () => {
  await sqs?.stop();
});

runBatchQueueContract("memory", () => new MemoryBatchQueue(), { waitMs: 200 });
runBatchQueueContract(
  "sqs fifo (local-aws-sqs)",
  async () => new SqsBatchQueue({ client: sqs.client, queueUrl: await createFifoQueue(sqs.client) }),
  // Short polls: local-aws-sqs holds a long poll open until it has 10 messages, which only slows tests.
  { waitMs: 0 },
);

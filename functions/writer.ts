/**
 * SQS Lambda writer (AWS shape, DESIGN.md): each record is one batch of one shard (wire format,
 * core/wire). Apply through the job's TargetWriter (exactly-once via the target marker), then move
 * the shard's OffsetStore entry forward so a restarted replicator resumes from it.
 *
 * FIFO: a failed record fails every later record of its message group in this invocation
 * (`skipGroupOnError`), so a group never skips ahead; records of other groups still complete. The
 * failures go back in `batchItemFailures` and SQS redelivers them in order.
 */

import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { DynamoJobStore } from "../core/adapters/dynamodb/jobStore.ts";
import { DynamoOffsetStore } from "../core/adapters/dynamodb/offsetStore.ts";
import { FatalError, FerryError } from "../core/errors.ts";
import type { JobSpec } from "../core/jobs/spec.ts";
import type { OffsetStore } from "../core/ports.ts";
import { decodeBatch } from "../core/wire/decode.ts";
import { AwsSecretResolver } from "./aws/secrets.ts";
import { createTargetWriters, type TargetWriters } from "./aws/targetWriters.ts";

export interface WriterDeps {
  offsets: OffsetStore;
  writers: TargetWriters;
  log?: (event: Record<string, unknown>) => void;
}

export type WriterHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export function createWriterHandler(deps: WriterDeps): WriterHandler {
  const log = deps.log ?? ((event) => console.log(JSON.stringify(event)));

  const applyRecord = async (record: SQSRecord): Promise<void> => {
    const batch = decodeBatch(record.body);
    const writer = await deps.writers.forJob(batch.job);
    // Errors propagate: the record (and the rest of its group) is reported failed and redelivered.
    // The cached writer stays: ioredis reconnects on its own, and a gap/abort is not a broken link.
    const result = await writer.apply(batch);
    // While a snapshot is applied the marker holds the FULLRESYNC offset plus a seq: recording that
    // offset would let a restarted replicator PSYNC past the unapplied rest of the snapshot.
    if (result.marker.seq === undefined) {
      await deps.offsets.advance(batch.job, batch.shard, {
        replid: result.marker.replid,
        offset: result.marker.offset,
        db: result.marker.db,
      });
    }
    log({
      msg: "batch applied",
      job: batch.job,
      shard: batch.shard,
      kind: batch.kind,
      first: batch.first,
      last: batch.last,
      applied: result.applied,
      skipped: result.skipped,
      messageId: record.messageId,
    });
  };

  const recordHandler = async (record: SQSRecord): Promise<void> => {
    try {
      await applyRecord(record);
    } catch (err) {
      log({
        msg: "batch failed",
        messageId: record.messageId,
        group: record.attributes.MessageGroupId,
        receiveCount: record.attributes.ApproximateReceiveCount,
        error: err instanceof Error ? err.message : String(err),
        advice: err instanceof FerryError ? err.advice : undefined,
        fatal: err instanceof FatalError,
      });
      throw err;
    }
  };

  return async (event, context) => {
    // A processor per invocation: its state (failed groups) must not leak into the next one.
    const processor = new SqsFifoPartialProcessorAsync();
    return processPartialResponse(event, recordHandler, processor, {
      ...(context ? { context } : {}),
      skipGroupOnError: true,
      throwOnFullBatchFailure: false,
    });
  };
}

/** Composition root: tables from the environment set by infra/writer.ts. */
function fromEnvironment(): WriterHandler {
  const jobsTable = process.env["FERRY_JOBS_TABLE"];
  const offsetsTable = process.env["FERRY_OFFSETS_TABLE"];
  if (!jobsTable || !offsetsTable) {
    throw new FatalError(
      "FERRY_JOBS_TABLE and FERRY_OFFSETS_TABLE must be set",
      "deploy with `npx sst deploy`, which sets them on the writer function",
    );
  }
  const dynamo = new DynamoDBClient({});
  return createWriterHandler({
    offsets: new DynamoOffsetStore({ client: dynamo, tableName: offsetsTable }),
    writers: createTargetWriters({
      jobs: new DynamoJobStore<JobSpec>({ client: dynamo, tableName: jobsTable }),
      secrets: new AwsSecretResolver(),
    }),
  });
}

let instance: WriterHandler | undefined;

/** The Lambda entry (module scope keeps target connections across invocations). */
export const handler: WriterHandler = (event, context) => {
  instance ??= fromEnvironment();
  return instance(event, context);
};

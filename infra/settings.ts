/**
 * The numbers that shape the AWS deployment (DESIGN.md "AWS limits that shape the batch format"),
 * as plain data so they are unit-testable and type-checked without the SST platform types.
 */
export const RUNTIME = "nodejs22.x" as const;

export const WRITER = {
  /** One invocation applies ≤ 10 batches; a slow target must not hold messages past visibility. */
  timeoutSeconds: 60,
  memoryMb: 512,
  /** Lambda FIFO batch size limit. */
  batchSize: 10,
} as const;

export const QUEUE = {
  /** AWS: visibility timeout ≥ 6× the consumer function's timeout, or retries overlap a running apply. */
  visibilityTimeoutSeconds: WRITER.timeoutSeconds * 6,
  /** SQS max; the Pulumi/SST default (256 KiB) is too small for the wire format's 1 MiB cap. */
  maximumMessageSizeBytes: 1_048_576,
  /** Days a message may wait (SQS max 14): a stopped writer must not lose the stream. */
  retentionSeconds: 14 * 24 * 3600,
  /** Receives before a message goes to the DLQ: transient target errors get a few tries. */
  maxReceiveCount: 5,
} as const;

export const REPLICATOR = {
  cpu: "1 vCPU",
  memory: "2 GB",
  /** Fargate: SIGTERM, then at most 120 s (stopTimeout) to flush and checkpoint. */
  stopTimeoutSeconds: 120,
  dockerfile: "infra/replicator.Dockerfile",
  entry: "functions/replicator.ts",
} as const;

export const API = {
  handler: "functions/api.handler",
  timeoutSeconds: 30,
  memoryMb: 512,
} as const;

/**
 * Secrets and SSM parameters holding Redis URLs must live under this prefix: the functions may only
 * read names below it (least privilege), and a job spec carries the name, never the value.
 */
export const SECRET_PREFIX = "ferry/";

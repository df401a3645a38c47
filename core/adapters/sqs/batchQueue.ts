import { randomBytes } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { FatalError, RetryableError } from "../../errors.ts";
import type { Batch } from "../../model.ts";
import type { BatchQueue, ReceivedBatch } from "../../ports.ts";
import { decodeBatch } from "../../wire/decode.ts";
import { type EncodeOptions, encodeBatchParts } from "../../wire/encode.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../wire/format.ts";
import { messageDeduplicationId, messageGroupId } from "./ids.ts";

export interface SqsBatchQueueOptions {
  client: SQSClient;
  /** URL of a FIFO queue (name ends in `.fifo`) with ContentBasedDeduplication off. */
  queueUrl: string;
  /** Wire encoding options; `maxBytes` must not exceed the queue's MaximumMessageSize. */
  encode?: EncodeOptions;
}

/** SQS answers at most 10 messages per ReceiveMessage and long-polls at most 20 s. */
const MAX_RECEIVE = 10;
const MAX_WAIT_SECONDS = 20;
/** The size limit counts message attributes too; ferry sends none, the rest is margin. */
const ATTRIBUTE_HEADROOM_BYTES = 1_024;
/** What an SQS queue created before August 2025 (or by an old IaC default) accepts. */
const QUEUE_DEFAULT_MAX_BYTES = 262_144;

interface InFlight {
  batch: Batch;
  receiptHandle: string;
  group: string;
  /** Cleared once acked or released; later ack/nack calls on the handle are no-ops. */
  live: boolean;
}

/**
 * BatchQueue over SQS FIFO: one message group per (job, shard), so SQS keeps a shard's batches in
 * order and withholds the next one while an earlier one is in flight; shards run in parallel.
 * Delivery is at-least-once (the writer's marker makes apply idempotent).
 *
 * The port's per-shard rules are also enforced here for what this consumer holds, so they do not
 * depend on the backend: a message of a group this consumer still holds unacked is released at once
 * (emulators such as local-aws-sqs do not withhold in-flight groups), and `nack` releases the batch
 * together with every later batch of its group this consumer holds — acking a later one after
 * releasing an earlier one would let the retry overtake it.
 */
export class SqsBatchQueue implements BatchQueue {
  /** Unacked deliveries per message group, in receive order. */
  private readonly held = new Map<string, InFlight[]>();
  /** Per group: a token renewed each time a snapshot starts (seq 1), see messageDeduplicationId. */
  private readonly snapshotAttempts = new Map<string, string>();

  constructor(private readonly options: SqsBatchQueueOptions) {}

  /**
   * A queue whose message cap follows the queue's own MaximumMessageSize: a queue left at the old
   * 256 KiB default (or an IaC provider that cannot set 1 MiB yet) then gets smaller messages
   * instead of every large send failing with "Message must be shorter than 262144 bytes".
   */
  static async connect(options: SqsBatchQueueOptions): Promise<SqsBatchQueue> {
    const queue = new SqsBatchQueue(options);
    const out = await queue.call("GetQueueAttributes", () =>
      options.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: options.queueUrl,
          AttributeNames: ["MaximumMessageSize", "FifoQueue"],
        }),
      ),
    );
    if (out.Attributes?.FifoQueue !== "true") {
      throw new FatalError(
        `queue ${options.queueUrl} is not a FIFO queue`,
        "use the stack's Batches queue (its name ends in .fifo): per-shard order depends on it",
      );
    }
    const queueMax = Number(out.Attributes?.MaximumMessageSize ?? QUEUE_DEFAULT_MAX_BYTES);
    const wanted = options.encode?.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const maxBytes = Math.min(wanted, queueMax - ATTRIBUTE_HEADROOM_BYTES);
    return new SqsBatchQueue({ ...options, encode: { ...options.encode, maxBytes } });
  }

  /** Largest body this queue sends (wire encoding cap). */
  get maxMessageBytes(): number {
    return this.options.encode?.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  async send(batch: Batch): Promise<void> {
    const groupId = messageGroupId(batch.job, batch.shard);
    if (batch.kind === "snapshot" && batch.first <= 1)
      this.snapshotAttempts.set(groupId, randomBytes(6).toString("hex"));
    const attempt = batch.kind === "snapshot" ? (this.snapshotAttempts.get(groupId) ?? "") : "";
    // Sequential: SQS orders a group by the order its SendMessage calls succeed.
    for (const part of encodeBatchParts(batch, this.options.encode)) {
      await this.call("SendMessage", () =>
        this.options.client.send(
          new SendMessageCommand({
            QueueUrl: this.options.queueUrl,
            MessageBody: part.body,
            MessageGroupId: groupId,
            MessageDeduplicationId: messageDeduplicationId(batch, part.first, part.last, attempt),
          }),
        ),
      );
    }
  }

  async receive(max: number, waitMs: number): Promise<ReceivedBatch[]> {
    const out = await this.call("ReceiveMessage", () =>
      this.options.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          // Never more than the caller takes: releasing extras would bump their receive count and
          // push healthy messages towards the DLQ (maxReceiveCount).
          MaxNumberOfMessages: Math.max(1, Math.min(MAX_RECEIVE, max)),
          WaitTimeSeconds: Math.min(MAX_WAIT_SECONDS, Math.max(0, Math.ceil(waitMs / 1000))),
          // MessageGroupId/SequenceNumber; the deprecated AttributeNames too, for emulators that
          // only read that one.
          MessageSystemAttributeNames: ["All"],
          AttributeNames: ["All"],
        }),
      ),
    );
    const received: ReceivedBatch[] = [];
    // Groups this consumer held before this call: none of their messages may be handed out now.
    const blocked = new Set<string>(this.held.keys());
    const release: string[] = [];
    for (const message of out.Messages ?? []) {
      const receiptHandle = message.ReceiptHandle;
      if (!receiptHandle) continue;
      let batch: Batch;
      try {
        batch = decodeBatch(message.Body ?? "");
      } catch {
        // An undecodable message stays in flight until its visibility timeout; the redrive policy
        // moves it to the DLQ after maxReceiveCount. Later messages of its group must wait for it.
        blocked.add(message.Attributes?.MessageGroupId ?? "?");
        continue;
      }
      const group = messageGroupId(batch.job, batch.shard);
      if (blocked.has(group) || received.length >= max) {
        blocked.add(group);
        release.push(receiptHandle);
        continue;
      }
      const entry: InFlight = { batch, receiptHandle, group, live: true };
      this.hold(entry);
      received.push(this.handle(entry));
    }
    for (const handle of release) await this.changeVisibility(handle, 0);
    return received;
  }

  async close(): Promise<void> {
    // The SQS client is owned by the caller (shared with other adapters); nothing to release here.
  }

  private hold(entry: InFlight): void {
    const list = this.held.get(entry.group) ?? [];
    list.push(entry);
    this.held.set(entry.group, list);
  }

  private drop(entry: InFlight): InFlight[] {
    const list = this.held.get(entry.group) ?? [];
    const at = list.indexOf(entry);
    if (at < 0) return [];
    const removed = list.splice(at);
    if (list.length === 0) this.held.delete(entry.group);
    for (const e of removed) e.live = false;
    return removed;
  }

  private handle(entry: InFlight): ReceivedBatch {
    return {
      batch: entry.batch,
      ack: async () => {
        if (!entry.live) return;
        await this.call("DeleteMessage", async () => {
          try {
            await this.options.client.send(
              new DeleteMessageCommand({
                QueueUrl: this.options.queueUrl,
                ReceiptHandle: entry.receiptHandle,
              }),
            );
          } catch (err) {
            // The visibility timeout ran out and the message was handed out again: it will be
            // redelivered, and the target marker drops it as already applied. Not worth failing for.
            if (err instanceof Error && err.name === "ReceiptHandleIsInvalid") return;
            throw err;
          }
        });
        const list = this.held.get(entry.group) ?? [];
        list.splice(list.indexOf(entry), 1);
        if (list.length === 0) this.held.delete(entry.group);
        entry.live = false;
      },
      // Visibility 0: the message (and with it its group) is available again at once.
      nack: async () => {
        if (!entry.live) return;
        for (const e of this.drop(entry)) await this.changeVisibility(e.receiptHandle, 0);
      },
    };
  }

  private changeVisibility(receiptHandle: string, seconds: number): Promise<void> {
    return this.call("ChangeMessageVisibility", async () => {
      await this.options.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.options.queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    });
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FatalError) throw err;
      const name = err instanceof Error ? err.name : String(err);
      const message = err instanceof Error ? err.message : String(err);
      const fault = (err as { $fault?: string }).$fault;
      if (fault === "client" && !/Throttl|RequestThrottled|OverLimit/i.test(name)) {
        throw new FatalError(
          `SQS ${operation} failed: ${name}: ${message}`,
          "check the queue URL and IAM permissions",
          {
            cause: err,
          },
        );
      }
      throw new RetryableError(
        `SQS ${operation} failed: ${name}: ${message}`,
        "SQS is throttling or unreachable; retry",
        {
          cause: err,
        },
      );
    }
  }
}

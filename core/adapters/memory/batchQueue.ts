/**
 * The embedded BatchQueue (core/ports.ts): in-process, bounded by total bytes so a slow target makes
 * `send` wait — and through the batcher, the replica session stop reading — instead of growing the
 * heap. Memory is bounded by `maxBytes` (+ one batch: a batch larger than the bound is admitted
 * alone, or it could never pass).
 *
 * A batch is weighed by what it costs in memory, not only by its encoded bytes (core/pipeline/
 * weight.ts): 8 MiB of small argv commands would otherwise hold ~140 MiB of heap.
 *
 * Order per shard: `receive` hands out a shard's batches only when none of that shard is delivered
 * and unacked, and then a consecutive run of them. `nack` puts the batch back at the head of its
 * shard together with every later batch of the same delivery still unacked, so a retry never
 * overtakes the batch that failed (same rule as an SQS FIFO message group).
 */
import { FatalError } from "../../errors.ts";
import type { Batch } from "../../model.ts";
import { batchWeight } from "../../pipeline/weight.ts";
import type { BatchQueue, ReceivedBatch } from "../../ports.ts";

export interface MemoryBatchQueueOptions {
  /** Bound on the bytes of queued + delivered-unacked batches (default 64 MiB). */
  maxBytes?: number;
}

interface Delivery {
  batch: Batch;
  /** batchWeight when sent: what its ack gives back (the batch's commands may change meanwhile). */
  weight: number;
  /** Bumped when the batch is redelivered: a stale handle's ack/nack is then ignored. */
  generation: number;
}

interface ShardQueue {
  pending: Delivery[];
  inflight: Delivery[];
}

export class MemoryBatchQueue implements BatchQueue {
  readonly maxBytes: number;
  private readonly shards = new Map<string, ShardQueue>();
  private usedBytes = 0;
  private closed = false;
  private senders: Array<{ bytes: number; admit: () => void }> = [];
  private receivers: Array<() => void> = [];
  private cursor = 0;

  constructor(opts: MemoryBatchQueueOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  }

  /** Bytes held (queued + delivered, not yet acked). */
  get bytes(): number {
    return this.usedBytes;
  }

  /** Batches waiting to be delivered. */
  get depth(): number {
    let n = 0;
    for (const shard of this.shards.values()) n += shard.pending.length;
    return n;
  }

  async send(batch: Batch): Promise<void> {
    this.throwIfClosed();
    // FIFO among senders: a big batch is not starved by a stream of small ones. Bytes are reserved
    // when a sender is admitted, so two woken senders cannot both take the last room.
    const weight = batchWeight(batch);
    if (this.senders.length > 0 || !this.hasRoom(weight)) {
      await new Promise<void>((admit) => this.senders.push({ bytes: weight, admit }));
      this.throwIfClosed();
    } else {
      this.usedBytes += weight;
    }
    const key = shardKey(batch);
    let shard = this.shards.get(key);
    if (!shard) {
      shard = { pending: [], inflight: [] };
      this.shards.set(key, shard);
    }
    shard.pending.push({ batch, weight, generation: 0 });
    this.wakeReceivers();
  }

  async receive(max: number, waitMs: number): Promise<ReceivedBatch[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const out = this.take(max);
      if (out.length > 0 || this.closed) return out;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.receivers.push(done);
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sender of this.senders.splice(0)) sender.admit();
    this.wakeReceivers();
  }

  private hasRoom(bytes: number): boolean {
    return this.usedBytes === 0 || this.usedBytes + bytes <= this.maxBytes;
  }

  private take(max: number): ReceivedBatch[] {
    const out: ReceivedBatch[] = [];
    const keys = [...this.shards.keys()];
    for (let k = 0; k < keys.length && out.length < max; k++) {
      const key = keys[(this.cursor + k) % keys.length]!;
      const shard = this.shards.get(key)!;
      if (shard.inflight.length > 0) continue;
      while (shard.pending.length > 0 && out.length < max) {
        const delivery = shard.pending.shift()!;
        shard.inflight.push(delivery);
        out.push(this.handle(key, shard, delivery));
      }
    }
    this.cursor = keys.length > 0 ? (this.cursor + 1) % keys.length : 0;
    return out;
  }

  private handle(key: string, shard: ShardQueue, delivery: Delivery): ReceivedBatch {
    const generation = delivery.generation;
    const live = (): boolean => delivery.generation === generation && shard.inflight.includes(delivery);
    return {
      batch: delivery.batch,
      ack: async () => {
        if (!live()) return;
        shard.inflight.splice(shard.inflight.indexOf(delivery), 1);
        this.usedBytes -= delivery.weight;
        if (shard.inflight.length === 0 && shard.pending.length === 0) this.shards.delete(key);
        this.admitSenders();
        this.wakeReceivers();
      },
      nack: async () => {
        if (!live()) return;
        const back = shard.inflight.splice(shard.inflight.indexOf(delivery));
        for (const d of back) d.generation++;
        shard.pending.unshift(...back);
        this.wakeReceivers();
      },
    };
  }

  private admitSenders(): void {
    while (this.senders.length > 0 && this.hasRoom(this.senders[0]!.bytes)) {
      const sender = this.senders.shift()!;
      this.usedBytes += sender.bytes;
      sender.admit();
    }
  }

  private throwIfClosed(): void {
    if (this.closed)
      throw new FatalError("batch queue is closed", "the job is stopping; nothing more is sent");
  }

  private wakeReceivers(): void {
    for (const wake of this.receivers.splice(0)) wake();
  }
}

function shardKey(batch: Batch): string {
  return `${batch.job}\u0000${batch.shard}`;
}

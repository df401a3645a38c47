/**
 * The consumer side of the embedded pipeline: BatchQueue → (rate limiter) → TargetWriter, acking
 * what is applied. Batches of one receive are applied pipelined (the writer keeps their order and
 * their exactly-once guarantee); a retryable failure nacks the batch — the queue redelivers it and
 * the later batches of its shard first — and backs off; a fatal one stops the loop with that error.
 */
import { isRetryable } from "../errors.ts";
import type { Batch } from "../model.ts";
import type { BatchQueue } from "../ports.ts";
import type { ApplyResult, TargetWriter } from "../writer/types.ts";
import type { RateLimiter } from "./rateLimiter.ts";

export interface ApplyLoopOptions {
  queue: Pick<BatchQueue, "receive">;
  writer: Pick<TargetWriter, "apply">;
  limiter?: RateLimiter;
  /** Batches per receive (default 8). */
  receiveMax?: number;
  /** How long a receive waits for work (default 100 ms). */
  waitMs?: number;
  /** Pause after a retryable failure, doubled (up to 5 s) while no batch succeeds (default 100 ms). */
  retryDelayMs?: number;
  /** After each applied batch (record the offset, update lag/metrics). */
  onApplied?: (batch: Batch, result: ApplyResult) => void | Promise<void>;
  /** After each retryable failure (log it). */
  onRetry?: (batch: Batch, error: unknown) => void;
}

export interface ApplyLoop {
  /** Finish the batches in hand, then resolve. */
  stop(): Promise<void>;
  /** Rejects with the fatal error that stopped the loop; resolves after stop(). */
  readonly done: Promise<void>;
}

export function startApplyLoop(opts: ApplyLoopOptions): ApplyLoop {
  let stopping = false;
  const baseDelay = opts.retryDelayMs ?? 100;
  let delay = baseDelay;

  const run = async (): Promise<void> => {
    while (!stopping) {
      const received = await opts.queue.receive(opts.receiveMax ?? 8, opts.waitMs ?? 100);
      const applies: Array<Promise<ApplyResult>> = [];
      for (const { batch } of received) {
        await opts.limiter?.take(batch.commands.length, batch.bytes);
        const apply = opts.writer.apply(batch);
        apply.catch(() => {}); // handled in order below
        applies.push(apply);
      }
      let failure: unknown = null;
      let retried = false;
      let progressed = false;
      for (let i = 0; i < received.length; i++) {
        const { batch, ack, nack } = received[i]!;
        try {
          const result = await applies[i]!;
          await ack();
          await opts.onApplied?.(batch, result);
          progressed = true;
        } catch (err) {
          await nack();
          if (isRetryable(err)) {
            retried = true;
            opts.onRetry?.(batch, err);
          } else failure ??= err;
        }
      }
      if (failure !== null) throw failure;
      // Back off only while nothing gets through (target down), not for one flaky batch in a stream.
      if (progressed) delay = baseDelay;
      if (retried) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (!progressed) delay = Math.min(delay * 2, 5000);
      }
    }
  };

  const done = run();
  done.catch(() => {});
  return {
    done,
    async stop() {
      stopping = true;
      await done.catch(() => {});
    },
  };
}

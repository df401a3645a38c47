/**
 * What a queued command costs in memory, beyond its encoded bytes. The embedded queue is bounded by
 * this weight (--queue-size), and the batcher keeps each batch under a quarter of the bound.
 *
 * - A command with argv (snapshot RESTOREs, filtered or rewritten commands): a Command object, an
 *   argv array and a Buffer view per argument, ~600 bytes of heap in a heap snapshot for a 40-byte
 *   SET, so 8 MiB of small commands would otherwise hold ~140 MiB.
 * - A StreamCommand still carrying its source frame (core/resp/streamCommand.ts): one object of
 *   positions into the read buffer, 106 bytes with its array slot (measured with --expose-gc over
 *   200k of them); its bytes are the frame, already counted.
 */
import type { Batch, Command } from "../model.ts";
import { StreamCommand } from "../resp/streamCommand.ts";

export const COMMAND_OVERHEAD_BYTES = 600;
export const STREAM_COMMAND_OVERHEAD_BYTES = 128;

export function commandOverhead(command: Command): number {
  return command instanceof StreamCommand && command.untouched
    ? STREAM_COMMAND_OVERHEAD_BYTES
    : COMMAND_OVERHEAD_BYTES;
}

/**
 * Weights the batcher added up while filling a batch, so the queue does not walk its commands again
 * (that walk was ~2 % of ferry's stream CPU). Kept beside the Batch, not in it: a Batch is also a
 * wire format (core/wire), and the weight means nothing on the far side of SQS.
 */
const sealedWeights = new WeakMap<Batch, number>();

export function rememberWeight(batch: Batch, weight: number): void {
  sealedWeights.set(batch, weight);
}

/** What a batch weighs against the queue's bound: its encoded bytes plus each command's overhead. */
export function batchWeight(batch: Batch): number {
  const known = sealedWeights.get(batch);
  if (known !== undefined) return known;
  let weight = batch.bytes;
  for (const command of batch.commands) weight += commandOverhead(command);
  return weight;
}

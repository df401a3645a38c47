/**
 * Reading the replies of one pipelined, guarded transaction (layout in transaction.ts): did it
 * commit, abort (the marker moved: re-plan) or fail, and which source command a failure belongs to.
 */
import type { FerryError } from "../errors.ts";
import type { Command } from "../model.ts";
import { classifyTargetError, isReplyError } from "./targetErrors.ts";
import { argvAt, type WireTx } from "./transaction.ts";

/**
 * An array reply of `length` elements none of which is an error, whose values were not kept
 * (TxConnection reads EXEC's reply to a block of writes this way: nothing in it is needed).
 */
export class CleanArrayReply {
  constructor(readonly length: number) {}
}

export type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export type Outcome =
  | { kind: "applied"; errors: Array<{ error: FerryError; command: Command }> }
  | { kind: "aborted" }
  | { kind: "failed"; error: FerryError };

export function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export function analyze(wire: WireTx, replies: Settled[]): Outcome {
  for (let i = 0; i <= wire.multiAt; i++) {
    const reply = replies[i]!;
    if (!reply.ok) return { kind: "failed", error: classifyTargetError(reply.error, argvAt(wire, i)) };
  }
  const exec = replies[wire.execAt]!;
  if (!exec.ok) {
    // EXECABORT: a command was refused when queued (OOM, wrong arity…): report that one.
    for (let q = 0; q < wire.queued.length; q++) {
      const reply = replies[wire.multiAt + 1 + q]!;
      if (!reply.ok)
        return {
          kind: "failed",
          error: classifyTargetError(reply.error, argvAt(wire, wire.multiAt + 1 + q)),
        };
    }
    return { kind: "failed", error: classifyTargetError(exec.error, argvAt(wire, wire.execAt)) };
  }
  if (exec.value === null) return { kind: "aborted" };
  if (exec.value instanceof CleanArrayReply) return { kind: "applied", errors: [] };
  const results = exec.value as unknown[];
  const errors: Array<{ error: FerryError; command: Command }> = [];
  for (let q = 0; q < results.length; q++) {
    const value = results[q];
    if (!isReplyError(value)) continue;
    const command = wire.queued[q];
    const error = classifyTargetError(value, argvAt(wire, wire.multiAt + 1 + q));
    if (!command) return { kind: "failed", error }; // SELECT or the marker SET itself failed
    errors.push({ error, command });
  }
  return { kind: "applied", errors };
}

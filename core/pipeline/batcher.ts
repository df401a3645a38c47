/**
 * Groups one shard's commands into Batches (core/model.ts), the unit of queueing and of
 * exactly-once apply. A batch is sealed when it holds `maxCommands` commands or `maxBytes` bytes, or
 * `maxAgeMs` after its first command arrived (so a quiet stream is still applied within ms).
 *
 * - A source transaction (commands sharing a `txn`) is never split across batches: the writer
 *   applies a batch in one MULTI…EXEC, and that is what keeps the source's atomicity on the target.
 * - A batch's `last` is the latest `endOffset` given, so PINGs/SELECTs after the last command still
 *   advance the applied offset. With no command at all an empty batch carries the offset alone, at
 *   most once per `offsetOnlyIntervalMs`: the master PINGs every 10 s and answers GETACKs, which
 *   would otherwise become a stream of tiny writes to the target.
 * - `queue.send` may wait (memory queue full, SQS slow): the promise returned by `stream`/`snapshot`
 *   then waits too, and the replica session stops reading the socket — backpressure end to end.
 */
import { FatalError } from "../errors.ts";
import type { Batch, Command } from "../model.ts";
import type { BatchQueue, Clock } from "../ports.ts";
import { systemClock } from "../ports.ts";
import { encodedLength } from "../resp/encoder.ts";
import type { RawCommand } from "../resp/raw.ts";
import { StreamCommand } from "../resp/streamCommand.ts";
import { commandOverhead, rememberWeight } from "./weight.ts";

export interface BatcherOptions {
  job: string;
  shard: string;
  queue: Pick<BatchQueue, "send">;
  /** Seal at this many commands (default 1000; a larger txn still goes whole, alone). */
  maxCommands?: number;
  /** Seal at this many encoded bytes (default 1 MiB). */
  maxBytes?: number;
  /**
   * Seal at this weight (encoded bytes + per-command overhead, core/pipeline/weight.ts), so a batch
   * stays a small part of a queue bounded by weight. Default: no bound beyond maxBytes/maxCommands.
   */
  maxWeight?: number;
  /** Seal this long after the batch's first command (default 5 ms). */
  maxAgeMs?: number;
  /** At most one command-less (offset only) batch per this interval (default 100 ms). */
  offsetOnlyIntervalMs?: number;
  /** Sealed batches that may wait for `queue.send` before callers are made to wait (default 1). */
  maxPendingSends?: number;
  clock?: Clock;
}

/** RESP size of a command as the target will receive it: `*n\r\n` then `$len\r\n<arg>\r\n` per arg. */
export function commandBytes(argv: readonly Buffer[]): number {
  return encodedLength(argv);
}

/** commandBytes of `command`, read off its source frame when it still has one (no argv built). */
export function encodedSize(command: Command): number {
  if (command instanceof StreamCommand && command.untouched) return command.frameBytes;
  return (command as RawCommand).raw?.length ?? commandBytes(command.argv);
}

interface OpenBatch {
  commands: Command[];
  bytes: number;
  weight: number;
  first: number;
  last: number;
  endDb: number | undefined;
}

type Mode =
  | { kind: "idle" }
  | { kind: "snapshot"; replid: string; offset: number }
  | { kind: "stream"; replid: string; after: number | undefined };

export class Batcher {
  private readonly maxCommands: number;
  private readonly maxBytes: number;
  private readonly maxWeight: number;
  private readonly maxAgeMs: number;
  private readonly offsetOnlyIntervalMs: number;
  private readonly maxPendingSends: number;
  private readonly clock: Clock;
  private mode: Mode = { kind: "idle" };
  private open: OpenBatch | null = null;
  private timer: NodeJS.Timeout | null = null;
  private tail: Promise<void> = Promise.resolve();
  private pendingSends = 0;
  private failure: unknown = null;
  /** Highest stream offset sealed so far (an offset-only batch is pointless at or below it). */
  private sealedOffset = -1;
  private lastOffsetOnlyAt = Number.NEGATIVE_INFINITY;
  /** Batches handed to the queue, for status/metrics. */
  sealedBatches = 0;

  constructor(private readonly opts: BatcherOptions) {
    this.maxCommands = opts.maxCommands ?? 1000;
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
    this.maxWeight = opts.maxWeight ?? Number.POSITIVE_INFINITY;
    this.maxAgeMs = opts.maxAgeMs ?? 5;
    this.offsetOnlyIntervalMs = opts.offsetOnlyIntervalMs ?? 100;
    this.maxPendingSends = opts.maxPendingSends ?? 1;
    this.clock = opts.clock ?? systemClock;
  }

  /** `+FULLRESYNC <replid> <offset>`: snapshot commands follow, numbered by `seq`. */
  async beginSnapshot(replid: string, offset: number): Promise<void> {
    await this.flush();
    this.mode = { kind: "snapshot", replid, offset };
  }

  /** Commands generated from the RDB; each carries `seq` (1, 2, 3…) and `offset` = the FULLRESYNC offset. */
  async snapshot(commands: Command[]): Promise<void> {
    const mode = this.mode;
    if (mode.kind !== "snapshot") throw new FatalError("batcher: snapshot commands outside a snapshot");
    for (const command of commands) {
      if (command.seq === undefined) throw new FatalError("batcher: snapshot command without seq");
    }
    this.addUnits(commands, (c) => c.seq ?? 0);
    await this.backpressure();
  }

  /** The snapshot is complete: seal what is left. */
  endSnapshot(): Promise<void> {
    return this.flush();
  }

  /**
   * Stream phase for `replid`, continuing from `offset` (the `+CONTINUE` offset, or the FULLRESYNC
   * offset after a snapshot): batches then carry `after`, which lets the writer detect a gap.
   */
  async beginStream(replid: string, offset?: number): Promise<void> {
    await this.flush();
    this.mode = { kind: "stream", replid, after: offset };
  }

  /** Same contract as ReplicaSink.commands: everything up to `endOffset` is covered, `db` is current there. */
  async stream(commands: Command[], endOffset: number, db: number): Promise<void> {
    if (this.mode.kind !== "stream") throw new FatalError("batcher: stream commands before beginStream");
    if (commands.length > 0) this.addUnits(commands, (c) => c.offset);
    if (this.open) {
      this.open.last = Math.max(this.open.last, endOffset);
      this.open.endDb = db;
    } else if (endOffset > this.sealedOffset) {
      // Only the offset moved (PING, SELECT, GETACK): an empty batch, rate-limited.
      this.open = { commands: [], bytes: 0, weight: 0, first: endOffset, last: endOffset, endDb: db };
      const due = Math.max(
        this.maxAgeMs,
        this.lastOffsetOnlyAt + this.offsetOnlyIntervalMs - this.clock.now(),
      );
      this.arm(due);
    }
    await this.backpressure();
  }

  /** Seal the open batch now and wait until every sealed batch is accepted by the queue. */
  async flush(): Promise<void> {
    this.seal();
    await this.tail;
    this.throwIfFailed();
  }

  /** Flush and stop the age timer. */
  async close(): Promise<void> {
    await this.flush();
    this.disarm();
  }

  private addUnits(commands: Command[], position: (c: Command) => number): void {
    let i = 0;
    while (i < commands.length) {
      // A unit is one command, or a whole source transaction (consecutive commands sharing `txn`).
      const txn = commands[i]!.txn;
      let j = i + 1;
      if (txn !== undefined) while (j < commands.length && commands[j]!.txn === txn) j++;
      // Hot path (every snapshot and stream command): no per-command array or closure.
      let unitBytes = 0;
      let unitWeight = 0;
      for (let k = i; k < j; k++) {
        const command = commands[k]!;
        const bytes = encodedSize(command);
        unitBytes += bytes;
        unitWeight += bytes + commandOverhead(command);
      }
      const unitLength = j - i;
      const open = this.open;
      if (
        open &&
        open.commands.length > 0 &&
        (open.commands.length + unitLength > this.maxCommands ||
          open.bytes + unitBytes > this.maxBytes ||
          open.weight + unitWeight > this.maxWeight)
      ) {
        this.seal();
      }
      const last = commands[j - 1]!;
      if (!this.open || this.open.commands.length === 0) {
        // An open offset-only batch is folded into this one: its offset is below the command's.
        this.open = {
          commands: [],
          bytes: 0,
          weight: 0,
          first: position(commands[i]!),
          last: 0,
          endDb: undefined,
        };
        this.arm(this.maxAgeMs);
      }
      const batch = this.open;
      for (let k = i; k < j; k++) batch.commands.push(commands[k]!);
      batch.bytes += unitBytes;
      batch.weight += unitWeight;
      batch.last = Math.max(batch.last, position(last));
      batch.endDb = last.db;
      if (
        batch.commands.length >= this.maxCommands ||
        batch.bytes >= this.maxBytes ||
        batch.weight >= this.maxWeight
      )
        this.seal();
      i = j;
    }
  }

  private seal(): void {
    this.disarm();
    const open = this.open;
    const mode = this.mode;
    this.open = null;
    if (!open || mode.kind === "idle") return;
    const batch: Batch = {
      job: this.opts.job,
      shard: this.opts.shard,
      replid: mode.replid,
      kind: mode.kind,
      first: open.first,
      last: open.last,
      commands: open.commands,
      bytes: open.bytes,
    };
    rememberWeight(batch, open.weight);
    if (open.endDb !== undefined) batch.endDb = open.endDb;
    if (mode.kind === "snapshot") batch.snapshotOffset = mode.offset;
    else {
      if (mode.after !== undefined) batch.after = mode.after;
      mode.after = open.last;
      this.sealedOffset = Math.max(this.sealedOffset, open.last);
      if (open.commands.length === 0) this.lastOffsetOnlyAt = this.clock.now();
    }
    this.sealedBatches++;
    this.pendingSends++;
    this.tail = this.tail.then(async () => {
      try {
        if (this.failure === null) await this.opts.queue.send(batch);
      } catch (err) {
        this.failure ??= err;
      } finally {
        this.pendingSends--;
      }
    });
  }

  private arm(ms: number): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.seal();
    }, ms);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private backpressure(): Promise<void> {
    this.throwIfFailed();
    if (this.pendingSends <= this.maxPendingSends) return Promise.resolve();
    return this.tail.then(() => this.throwIfFailed());
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }
}

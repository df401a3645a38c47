/**
 * Exactly-once writer for a standalone target (DESIGN.md "Exactly-once apply").
 *
 * Per shard it keeps the marker it expects on the target (read once with GET, then advanced by its
 * own transactions, dropped after any abort or error). Each batch is planned against that marker
 * (commands already applied are dropped) and sent as guarded MULTI…EXEC transactions
 * (transaction.ts). Up to `maxInFlight` batches are pipelined on one connection (txConnection.ts:
 * one write per transaction); replies come back in order and `apply` resolves in call order.
 *
 * When an EXEC aborts (the marker moved under us: a duplicate writer, a retry that overlapped)
 * nothing more is sent until every in-flight reply is in; then the marker is re-read and the
 * aborted batches are re-planned in their original order. When a batch fails, the later batches of
 * the same shard are rejected as well unless they were applied (their guard proves the earlier one
 * was) — a later batch is never applied without the earlier one.
 */
import type { Redis } from "ioredis";
import { type ConnectOptions, connectRedis } from "../connect/client.ts";
import { FatalError, type FerryError, RetryableError } from "../errors.ts";
import type { Batch, Command } from "../model.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { TargetEmptiness } from "./emptiness.ts";
import { DEFAULT_MARKER_PREFIX, decodeMarker, encodeMarker, markerKey } from "./marker.ts";
import { analyze, type Outcome, type Settled } from "./replies.ts";
import { SlabPool } from "./slabPool.ts";
import { snapshotEndBatch } from "./snapshotEnd.ts";
import { classifyTargetError } from "./targetErrors.ts";
import { type BatchPlan, type ExecLimits, planBatch, type WireTx, wireTransaction } from "./transaction.ts";
import { TxConnection } from "./txConnection.ts";
import type { ApplyResult, MarkerState, TargetWriter } from "./types.ts";

export interface StandaloneWriterOptions {
  target: RedisEndpoint;
  /** Key prefix of markers and other bookkeeping keys (default "__ferry:"). */
  markerPrefix?: string;
  /** Db holding the markers (default 0). */
  markerDb?: number;
  /** Batches pipelined on the connection before `apply` waits (default 4). */
  maxInFlight?: number;
  /** Cap per MULTI…EXEC; a larger batch is applied as several transactions, each with its marker. */
  maxCommandsPerExec?: number;
  maxBytesPerExec?: number;
  /** Times an aborted batch is re-planned before giving up with a RetryableError (default 20). */
  maxAborts?: number;
  /**
   * A command that failed inside an EXEC that otherwise committed (e.g. WRONGTYPE: the target held
   * different data). Without a handler the batch rejects with a FatalError after the commit.
   */
  onCommandError?: (error: FerryError, command: Command) => void;
  connect?: ConnectOptions;
}

interface Job {
  batch: Batch;
  key: string;
  epoch: number;
  aborts: number;
  resolve: (result: ApplyResult) => void;
  reject: (error: unknown) => void;
  plan?: BatchPlan;
  replies?: Array<Promise<Settled[]>>;
  wires?: WireTx[];
}

const b = (s: string | number): Buffer => Buffer.from(String(s));

export async function createStandaloneWriter(opts: StandaloneWriterOptions): Promise<StandaloneWriter> {
  // Long-lived: a target restart must not strand the writer, and a command in flight when the
  // target goes away must fail at once (the apply loop's backoff paces the retries).
  const redis = await connectRedis(opts.target, { name: "ferry-writer", longLived: true, ...opts.connect });
  // A command must never be replayed by ioredis after a reconnect: a resent tail of a pipelined
  // MULTI block would run outside its transaction. Fail fast instead; the marker decides on retry.
  redis.options.enableOfflineQueue = false;
  redis.options.autoResendUnfulfilledCommands = false;
  try {
    // The guard needs EVAL; without it a transaction could run unguarded, so refuse up front.
    await redis.eval("return 1", 0);
  } catch (err) {
    redis.disconnect();
    throw new FatalError(
      `the target refuses EVAL (${(err as Error).message}); ferry needs it for exactly-once apply`,
      "allow EVAL for the ferry user (ACL +eval) or use a target where scripting is enabled",
      { cause: err },
    );
  }
  const tx = new TxConnection(opts.target, {
    name: "ferry-writer-tx",
    countCleanArrays: true, // analyze() needs only EXEC's errors
    ...(opts.connect?.connectTimeoutMs ? { connectTimeoutMs: opts.connect.connectTimeoutMs } : {}),
    ...(opts.connect?.commandTimeoutMs ? { replyTimeoutMs: opts.connect.commandTimeoutMs } : {}),
  });
  try {
    await tx.connect();
  } catch (err) {
    redis.disconnect();
    tx.close();
    throw err;
  }
  return new StandaloneWriter(redis, opts, tx);
}

const PAYLOAD_SLAB_BYTES = 2 * 1024 * 1024;

export class StandaloneWriter implements TargetWriter {
  readonly markerPrefix: string;
  readonly markerDb: number;
  readonly emptiness: TargetEmptiness;
  private readonly maxInFlight: number;
  private readonly maxAborts: number;
  private readonly limits: ExecLimits;
  /** Marker each shard will hold once every sent transaction is applied; absent = unknown. */
  private readonly expected = new Map<string, MarkerState | null>();
  private readonly epochs = new Map<string, number>();
  private waiting: Job[] = [];
  private readonly inflight: Job[] = [];
  private readonly requeue: Job[] = [];
  private draining = false;
  private pumping = false;
  private settleTail: Promise<void> = Promise.resolve();
  /**
   * Transaction payloads: 2 MiB slabs (batches are sealed near 1 MiB), as many kept as can be in
   * flight. A slab goes back once the socket has taken its bytes.
   */
  private readonly slabs: SlabPool;
  private readonly takeSlab = (size: number): Buffer => this.slabs.take(size);
  /** Counters for metrics and tests: EXECs committed, EXECs aborted by the guard/WATCH, marker reads. */
  readonly stats = { transactions: 0, aborts: 0, markerReads: 0 };

  constructor(
    readonly redis: Redis,
    private readonly opts: StandaloneWriterOptions,
    /** Transactions go here (one write each); `redis` keeps the control commands. */
    private readonly tx: TxConnection = new TxConnection(opts.target, { name: "ferry-writer-tx" }),
  ) {
    this.markerPrefix = opts.markerPrefix ?? DEFAULT_MARKER_PREFIX;
    this.markerDb = opts.markerDb ?? 0;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 4);
    this.slabs = new SlabPool(PAYLOAD_SLAB_BYTES, this.maxInFlight + 1);
    this.maxAborts = opts.maxAborts ?? 20;
    this.limits = {
      maxCommands: opts.maxCommandsPerExec ?? 5000,
      maxBytes: opts.maxBytesPerExec ?? 16 * 1024 * 1024,
    };
    this.emptiness = new TargetEmptiness((argv) => this.call(argv), this.markerPrefix, this.markerDb);
  }

  apply(batch: Batch): Promise<ApplyResult> {
    const key = markerKey(this.markerPrefix, batch.job, batch.shard);
    return new Promise<ApplyResult>((resolve, reject) => {
      this.waiting.push({ batch, key, epoch: this.epochs.get(key) ?? 0, aborts: 0, resolve, reject });
      void this.pump();
    });
  }

  async readMarker(job: string, shard: string): Promise<MarkerState | null> {
    return this.getMarker(markerKey(this.markerPrefix, job, shard));
  }

  /**
   * The snapshot of `replid` is fully applied: set the marker to the stream form so stream
   * commands after `offset` follow. Never moves a marker backwards (a stream marker already past
   * `offset` is kept).
   */
  async finishSnapshot(
    job: string,
    shard: string,
    replid: string,
    offset: number,
    db = 0,
  ): Promise<MarkerState> {
    return (await this.apply(snapshotEndBatch(job, shard, replid, offset, db))).marker;
  }

  async removeMarkers(job: string): Promise<number> {
    const pattern = `${escapeGlob(`${this.markerPrefix}${job}`)}:*`;
    let cursor = "0";
    let removed = 0;
    do {
      const [, reply] = await Promise.all([
        this.call([b("SELECT"), b(this.markerDb)]),
        this.call([b("SCAN"), b(cursor), b("MATCH"), b(pattern), b("COUNT"), b(1000)]),
      ]);
      const [next, keys] = reply as [Buffer, Buffer[]];
      cursor = next.toString();
      if (keys.length > 0) {
        const [, count] = await Promise.all([
          this.call([b("SELECT"), b(this.markerDb)]),
          this.call([b("DEL"), ...keys]),
        ]);
        removed += Number(count);
      }
    } while (cursor !== "0");
    for (const key of [...this.expected.keys()])
      if (key.startsWith(`${this.markerPrefix}${job}:`)) this.expected.delete(key);
    return removed;
  }

  async close(): Promise<void> {
    await this.settleTail;
    this.tx.close();
    this.redis.disconnect();
  }

  /** Send one command now (pipelined behind whatever was sent before); rejects with FerryError. */
  private async call(argv: Buffer[]): Promise<unknown> {
    try {
      return await this.redis.callBuffer(argv[0]!.toString(), ...argv.slice(1));
    } catch (err) {
      throw classifyTargetError(err, argv);
    }
  }

  private async getMarker(key: string): Promise<MarkerState | null> {
    this.stats.markerReads++;
    const [, value] = await Promise.all([
      this.call([b("SELECT"), b(this.markerDb)]),
      this.call([b("GET"), b(key)]),
    ]);
    if (value !== null && decodeMarker(value as Buffer) === null) {
      throw new FatalError(
        `marker ${key} on the target holds an unexpected value`,
        `delete it (DEL ${key} in db ${this.markerDb}) only if no migration of this job is running, then resume`,
      );
    }
    return decodeMarker(value as Buffer | null);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0 && this.inflight.length < this.maxInFlight && !this.draining) {
        const job = this.waiting[0]!;
        if (job.epoch !== (this.epochs.get(job.key) ?? 0)) {
          this.waiting.shift();
          job.reject(earlierFailed(job.batch));
          continue;
        }
        let fresh = false;
        if (!this.expected.has(job.key)) {
          fresh = true;
          try {
            this.expected.set(job.key, await this.getMarker(job.key));
          } catch (err) {
            this.waiting.shift();
            this.fail(job, err);
            continue;
          }
          if (this.draining) break;
        }
        const expected = this.expected.get(job.key) ?? null;
        const plan = planBatch(job.batch, expected, this.limits);
        if (plan.gap && !this.inflight.some((j) => j.key === job.key) && !fresh) {
          // The cached marker may be behind the target's (another writer moved it): re-read once.
          this.expected.delete(job.key);
          continue;
        }
        this.waiting.shift();
        if (plan.gap) {
          this.fail(job, gapError(job.batch, expected));
          continue;
        }
        this.send(job, plan);
      }
    } finally {
      this.pumping = false;
    }
  }

  private send(job: Job, plan: BatchPlan): void {
    let marker = this.expected.get(job.key) ?? null;
    job.plan = plan;
    if (plan.transactions.length === 0) {
      job.resolve({ applied: 0, skipped: plan.skipped, marker: plan.final });
      return;
    }
    const keyBuf = b(job.key);
    const wires: WireTx[] = [];
    const replies: Array<Promise<Settled[]>> = [];
    job.wires = wires;
    job.replies = replies;
    for (const tx of plan.transactions) {
      const wire = wireTransaction(tx, marker, keyBuf, this.markerDb, this.takeSlab);
      wires.push(wire);
      const payload = wire.payload;
      replies.push(this.tx.sendEncoded(payload, wire.frames.length, () => this.slabs.give(payload)));
      marker = tx.marker;
    }
    this.expected.set(job.key, plan.final);
    this.inflight.push(job);
    this.settleTail = this.settleTail.then(() => this.settle(job));
  }

  private async settle(job: Job): Promise<void> {
    let applied = 0;
    const errors: Array<{ error: FerryError; command: Command }> = [];
    let outcome: Outcome = { kind: "applied", errors };
    for (let i = 0; i < job.wires!.length; i++) {
      const result = analyze(job.wires![i]!, await job.replies![i]!);
      if (result.kind !== "applied") {
        outcome = result;
        break;
      }
      this.stats.transactions++;
      applied += job.plan!.transactions[i]!.commands.length;
      errors.push(...result.errors);
    }
    this.inflight.splice(this.inflight.indexOf(job), 1);
    if (outcome.kind === "aborted") this.stats.aborts++;
    const stale = job.epoch !== (this.epochs.get(job.key) ?? 0);
    if (outcome.kind === "applied") {
      this.finish(job, applied, errors);
    } else if (outcome.kind === "aborted" && !stale && ++job.aborts <= this.maxAborts) {
      this.requeue.push(job);
      this.draining = true;
    } else if (outcome.kind === "aborted") {
      job.reject(
        stale
          ? earlierFailed(job.batch)
          : new RetryableError(
              `batch of shard ${job.batch.shard} kept aborting: another writer keeps changing its marker`,
              "make sure only one ferry job writes this shard, then resume",
            ),
      );
      this.expected.delete(job.key);
      this.draining = true;
    } else {
      this.fail(job, outcome.error);
    }
    if (this.draining && this.inflight.length === 0) {
      // Every reply is in: the marker cache is rebuilt from the target, aborted batches go first.
      this.expected.clear();
      this.waiting = [...this.requeue.splice(0), ...this.waiting];
      this.draining = false;
    }
    void this.pump();
  }

  private finish(job: Job, applied: number, errors: Array<{ error: FerryError; command: Command }>): void {
    const result: ApplyResult = { applied, skipped: job.plan!.skipped, marker: job.plan!.final };
    const handler = this.opts.onCommandError;
    if (errors.length === 0 || handler) {
      for (const { error, command } of errors) handler?.(error, command);
      job.resolve(result);
      return;
    }
    const first = errors[0]!.error;
    job.reject(
      new FatalError(
        `${first.message} (${errors.length} command(s) of this batch failed on the target; the rest of the batch was applied)`,
        first.advice,
        { cause: first },
      ),
    );
  }

  /** A batch failed: later batches of its shard must not be applied without it. */
  private fail(job: Job, err: unknown): void {
    this.epochs.set(job.key, (this.epochs.get(job.key) ?? 0) + 1);
    this.expected.delete(job.key);
    this.draining = this.draining || this.inflight.length > 0;
    job.reject(err instanceof FatalError || err instanceof RetryableError ? err : classifyTargetError(err));
  }
}

function earlierFailed(batch: Batch): RetryableError {
  return new RetryableError(
    `not applied: an earlier batch of shard ${batch.shard} failed`,
    "redeliver this batch after the earlier one (the queue does this on nack)",
  );
}

function gapError(batch: Batch, marker: MarkerState | null): RetryableError {
  const at = marker ? encodeMarker(marker) : "none";
  const from = batch.kind === "snapshot" ? `snapshot seq ${batch.first}` : `offset ${batch.after}`;
  return new RetryableError(
    `not applied: batch of shard ${batch.shard} continues from ${from} but the target's marker is at ${at}`,
    "an earlier batch is missing or late; redeliver the batches of this shard in order",
  );
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * `--source-rdb`: a one-off restore of an RDB file (local, http(s), S3) into the target, streamed
 * RdbParser → SnapshotTranslator → Batcher → queue → exactly-once writer. Memory is bounded by the
 * queue and the parser's big-key chunking, never by the size of the file, and nothing is spooled
 * to disk. The restore ends when the last key is applied.
 */
import { randomBytes } from "node:crypto";
import { FatalError } from "../../errors.ts";
import type { Command, ShardProgress } from "../../model.ts";
import { Batcher } from "../../pipeline/batcher.ts";
import { createRdbParser, drainParser, PACED_OUTPUT_BUDGET } from "../../rdb/parser.ts";
import type { RdbEvent } from "../../rdb/types.ts";
import { type SnapshotCounters, SnapshotTranslator } from "../../snapshot/translator.ts";
import { exportFilterMetrics } from "../filterMetrics.ts";
import { startReaderPipeline } from "../pipeline.ts";
import type { ReaderContext, ReaderStatus, SourceReader } from "../types.ts";
import { type OpenRdbOptions, openRdbInput } from "./input.ts";

export const RDB_SHARD = "rdb";

export interface RdbRestoreOptions
  extends Pick<ReaderContext, "config" | "log" | "metrics" | "writer" | "filter" | "target"> {
  location: string;
  /** A cluster target has db 0 only: a key of another db without a --db-map is refused. */
  targetIsCluster: boolean;
  input?: OpenRdbOptions;
}

export interface RdbRestoreStatus {
  location: string;
  bytesDone: number;
  bytesTotal: number | null;
  /** RDB parsed to its end and every command applied. */
  done: boolean;
  /** From the RDB's CRC64 trailer; null before the end or when the file has none. */
  checksumOk: boolean | null;
  translated: Omit<SnapshotCounters, "byType">;
}

export class RdbRestore implements SourceReader {
  private readonly translator: SnapshotTranslator;
  private bytesDone = 0;
  private bytesTotal: number | null = null;
  private display: string;
  private seq = 0;
  private appliedSeq = 0;
  private done = false;
  private checksumOk: boolean | null = null;
  private stopping = false;
  private phase: ShardProgress["phase"] = "connecting";
  private lastError: string | null = null;
  private queueRef: { bytes: number } | null = null;
  private readonly appliedWaiters: Array<() => void> = [];
  private finished: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RdbRestoreOptions) {
    this.translator = new SnapshotTranslator({ target: opts.target, filter: opts.filter });
    this.display = opts.location;
  }

  run(): Promise<void> {
    const running = this.restore().catch((err: Error) => {
      this.phase = "failed";
      this.lastError = err.message;
      throw err;
    });
    this.finished = running.then(
      () => {},
      () => {},
    );
    return running;
  }

  private async restore(): Promise<void> {
    const { config, log, metrics } = this.opts;
    const input = await openRdbInput(this.opts.location, this.opts.input);
    this.display = input.display;
    this.bytesTotal = input.size;
    const pipeline = startReaderPipeline({
      config,
      writer: this.opts.writer,
      log,
      metrics,
      loops: 1,
      onApplied: (batch) => {
        this.appliedSeq = Math.max(this.appliedSeq, batch.last);
        for (const wake of this.appliedWaiters.splice(0)) wake();
      },
    });
    this.queueRef = pipeline.queue;
    const filterMetrics = exportFilterMetrics(this.opts.filter, metrics, config.job);
    const batcher = new Batcher({
      job: config.job,
      shard: RDB_SHARD,
      queue: pipeline.queue,
      maxCommands: config.batch.maxCommands,
      maxBytes: config.batch.maxBytes,
      maxAgeMs: config.batch.maxDelayMs,
    });
    // A fresh history per run: the restore is idempotent (RESTORE … REPLACE, DEL before rewrites),
    // so a rerun simply starts over rather than trusting seqs that depend on the clock (expiry).
    await batcher.beginSnapshot(`rdb-${randomBytes(8).toString("hex")}`, 0);
    const events: RdbEvent[] = [];
    const parser = createRdbParser(
      {
        captureRaw: true,
        bigKeyThreshold: config.bigKeyThreshold,
        modules: "capture",
        // Values bound for RESTORE come as DUMP payloads, never decoded (as in ferry sync).
        dumps: (_magic, version) => this.translator.acceptsDumps(version),
        outputBudget: PACED_OUTPUT_BUDGET,
      },
      (event) => events.push(event),
    );
    log.info({ location: this.display, bytes: input.size ?? "unknown" }, "restoring an RDB file");
    this.phase = "snapshot";
    const labels = { job: config.job, shard: RDB_SHARD };
    try {
      const work = (async () => {
        for await (const chunk of input.stream) {
          if (this.stopping) break;
          const buffer = Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
          this.bytesDone += buffer.length;
          metrics.snapshotBytes.inc(labels, buffer.length);
          parser.write(buffer);
          await drainParser(parser, () => this.hand(events.splice(0), batcher));
        }
        if (!this.stopping) {
          parser.end();
          await drainParser(parser, () => this.hand(events.splice(0), batcher));
        }
        // Stopped or not, what was read is applied before the restore returns.
        await batcher.endSnapshot();
        await this.appliedUpTo(this.seq);
      })();
      await Promise.race([work, pipeline.failed]);
      if (!this.stopping) {
        this.done = true;
        this.phase = "stopped";
        const c = this.translator.counters;
        log.info(
          {
            keys: c.keys,
            restored: c.restored,
            rewritten: c.rewritten,
            skippedExpired: c.skippedExpired,
            filtered: c.filtered,
          },
          "RDB restored",
        );
      }
    } finally {
      await batcher.close().catch(() => {});
      await pipeline.stop();
      filterMetrics.stop();
    }
  }

  private async hand(events: RdbEvent[], batcher: Batcher): Promise<void> {
    if (events.length === 0) return;
    const out: Command[] = [];
    for (const event of events) {
      if (event.kind === "eof") this.checksumOk = event.checksumOk;
      for (const command of this.translator.translate(event)) {
        if (this.opts.targetIsCluster && command.db !== 0)
          throw new FatalError(
            `the RDB has keys in db ${command.db}, and the cluster target only has db 0`,
            `map that db explicitly, e.g. --db-map ${command.db}:0, or skip it with --exclude-db ${command.db}`,
          );
        out.push({ argv: command.argv, db: command.db, offset: 0, seq: ++this.seq });
      }
    }
    if (out.length > 0) await batcher.snapshot(out);
  }

  private async appliedUpTo(seq: number): Promise<void> {
    while (this.appliedSeq < seq) await new Promise<void>((resolve) => this.appliedWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.finished;
  }

  get synced(): boolean {
    return this.done;
  }

  get queueBytes(): number {
    return this.queueRef?.bytes ?? 0;
  }

  progress(): ShardProgress[] {
    return [
      {
        shard: RDB_SHARD,
        address: this.display,
        phase: this.phase,
        replid: null,
        receivedOffset: this.seq,
        appliedOffset: this.appliedSeq,
        sourceOffset: this.seq,
        lagBytes: 0,
        lagSeconds: 0,
        opsPerSecond: 0,
        snapshotBytesDone: this.bytesDone,
        snapshotBytesTotal: this.bytesTotal,
        keysDone: this.translator.counters.keys,
        reconnects: 0,
        lastError: this.lastError,
      },
    ];
  }

  status(): ReaderStatus {
    const { byType: _byType, ...translated } = this.translator.counters;
    return {
      mode: "rdb",
      location: this.display,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      done: this.done,
      checksumOk: this.checksumOk,
      translated,
    };
  }
}

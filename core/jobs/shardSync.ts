/**
 * One source shard (one source master) of a job: a supervisor around ReplicaSession that turns the
 * replication link into batches, and reconnects on every retryable fault, resuming by PSYNC.
 *
 *   session ─fullResync/rdbChunk─▶ RdbParser ─▶ SnapshotTranslator ─▶ Batcher.snapshot ─▶ queue
 *           ─commands───────────▶ Filter ──────────────────────────▶ Batcher.stream   ─▶ queue
 *
 * Resume point (DESIGN.md "Exactly-once apply"): on the first connection the target's marker; after
 * an in-process reconnect the last offset handed to the batcher (the queue still holds what was not
 * applied, and the markers drop whatever arrives twice). A snapshot cut half-way restarts cleanly:
 * its resume point is "none", so PSYNC ? -1 brings a new RDB.
 */

import type { CommandTable } from "../commands/table.ts";
import { connectRedis } from "../connect/client.ts";
import { FatalError, FerryError, isRetryable } from "../errors.ts";
import type { Filter } from "../filters/filter.ts";
import type { Batch, Command, ShardProgress } from "../model.ts";
import type { Logger } from "../observability/logger.ts";
import type { FerryMetrics } from "../observability/metrics.ts";
import { Batcher } from "../pipeline/batcher.ts";
import { LagTracker } from "../pipeline/lag.ts";
import type { BatchQueue } from "../ports.ts";
import { createRdbParser, drainParser, PACED_OUTPUT_BUDGET, type RdbParser } from "../rdb/parser.ts";
import type { RdbEvent } from "../rdb/types.ts";
import { LEGACY_REPLID, ReplicaSession } from "../replication/replicaSession.ts";
import { explainFullResync, readReplicationSettings } from "../replication/resyncAdvice.ts";
import type { ContinueInfo, FullResyncInfo, RedisEndpoint, ReplicaSink } from "../replication/types.ts";
import type { TargetInfo } from "../snapshot/target.ts";
import { SnapshotTranslator } from "../snapshot/translator.ts";
import type { ApplyResult, MarkerState } from "../writer/types.ts";
import { backoffDelay, sleep } from "./backoff.ts";
import type { SlotHandoff } from "./slotHandoff.ts";
import type { SyncConfig } from "./syncConfig.ts";

export interface ShardSyncDeps {
  job: string;
  shard: string;
  endpoint: RedisEndpoint;
  config: SyncConfig;
  queue: BatchQueue;
  filter: Filter;
  commandTable: CommandTable;
  target: TargetInfo;
  log: Logger;
  metrics: FerryMetrics;
  /** The shard's marker on the target (where a restarted process resumes). */
  readMarker(): Promise<MarkerState | null>;
  /**
   * Called before the first batch of a snapshot that replaces an earlier one (re-snapshot), once the
   * queue holds nothing more of this shard: flush what the job wrote, or warn.
   */
  beforeResnapshot(reason: string): Promise<void>;
  /** Cluster source: orders keys that MIGRATE moves between source masters (see slotHandoff.ts). */
  handoff?: SlotHandoff;
  /**
   * Batches are applied by another process (AWS shape: the writer Lambda), so onApplied is never
   * called here: the applied offset arrives through appliedFromStore(), and a re-snapshot does not
   * wait for a drain this process cannot see (the FIFO queue keeps the shard's order anyway).
   */
  appliedElsewhere?: boolean;
}

type Resume = { replid: string; offset: number; db: number } | null;

export class ShardSync implements ReplicaSink {
  readonly lag = new LagTracker();
  private readonly batcher: Batcher;
  private session: ReplicaSession | null = null;
  private stopping = false;
  private readonly stopSignal = new AbortController();
  /** The master this shard replicates from; a source failover moves it (switchEndpoint). */
  private endpoint: RedisEndpoint;
  /** Aborted to cut a reconnect backoff short (stop, or a new master to connect to). */
  private wake = new AbortController();
  private switchPending = false;
  private phase: ShardProgress["phase"] = "connecting";
  private replid: string | null = null;
  /** Where the stream stands after what was handed to the batcher (in-process resume point). */
  private handed: Resume = null;
  private snapshotOffset = 0;
  private seq = 0;
  private parser: RdbParser | null = null;
  private translator: SnapshotTranslator | null = null;
  private readonly events: RdbEvent[] = [];
  /** Snapshots fully applied on the target in this process (the first one is not a re-snapshot). */
  private snapshotsStarted = 0;
  private hadMarkerAtStart = false;
  private snapshotBytesTotal: number | null = null;
  private snapshotBytesDone = 0;
  private keysDone = 0;
  private reconnects = 0;
  private lastError: string | null = null;
  private sealedSnapshotLast = 0;
  private snapshotApplied = true;
  /** Batches sealed vs applied, to know when the queue holds nothing more of this shard. */
  private appliedBatches = 0;
  private readonly drainWaiters: Array<() => void> = [];
  private readonly syncedWaiters: Array<{ atLeast: number; resolve: () => void }> = [];
  /** The PSYNC position asked for by the current session (null: PSYNC ? -1). */
  private asked: Resume = null;
  /** How the previous link ended, to explain a +FULLRESYNC that answers a resume attempt. */
  private lastLoss: { at: number; closedBySource: boolean; unread: number } | null = null;

  constructor(private readonly deps: ShardSyncDeps) {
    this.endpoint = deps.endpoint;
    const { config } = deps;
    // A batch never weighs more than a quarter of the queue's bound (bytes + per-command heap
    // cost, core/pipeline/weight.ts), so a small --queue-size still holds several batches and is
    // never overshot.
    const quarter = Math.max(1, Math.floor(config.queueBytes / 4));
    this.batcher = new Batcher({
      job: deps.job,
      shard: deps.shard,
      queue: deps.queue,
      maxCommands: config.batch.maxCommands,
      maxBytes: Math.min(config.batch.maxBytes, quarter),
      maxWeight: quarter,
      maxAgeMs: config.batch.maxDelayMs,
    });
  }

  /** Replicate until stop() or a fatal error (rejects with it). */
  async run(): Promise<void> {
    void this.checkReadTimeout();
    const marker = await this.deps.readMarker();
    this.hadMarkerAtStart = marker !== null;
    let resume: Resume = null;
    if (marker && marker.seq === undefined && marker.replid !== LEGACY_REPLID) {
      resume = { replid: marker.replid, offset: marker.offset, db: marker.db };
      this.deps.log.info(
        { shard: this.deps.shard, replid: marker.replid, offset: marker.offset },
        "resuming from the target's marker",
      );
    } else if (marker?.seq !== undefined) {
      this.deps.log.warn(
        { shard: this.deps.shard },
        "the previous run stopped during a snapshot: taking a new one",
      );
    }
    if (!resume && this.deps.config.mode === "incremental-only") {
      this.deps.log.warn(
        { shard: this.deps.shard },
        "incremental-only without a resume point: the snapshot is read but not applied",
      );
    }
    this.lag.reset(resume?.offset ?? 0);
    let attempt = 0;
    while (!this.stopping) {
      const session = new ReplicaSession(
        {
          endpoint: this.endpoint,
          psyncCommand: this.deps.config.psyncCommand,
          readTimeoutMs: this.deps.config.readTimeoutMs,
          ...(resume ? { resume } : {}),
        },
        this,
      );
      this.session = session;
      this.asked = resume;
      const connectedAt = Date.now();
      try {
        await session.run();
        if (this.stopping) break;
      } catch (err) {
        if (this.stopping) break;
        this.lastError = err instanceof Error ? err.message : String(err);
        const lag = this.lag.snapshot();
        this.lastLoss = {
          at: Date.now(),
          closedBySource: /closed the replication link/.test(this.lastError),
          unread: Math.max(0, lag.sourceOffset - lag.receivedOffset),
        };
        if (!isRetryable(err)) {
          this.phase = "failed";
          this.deps.metrics.errors.inc({ job: this.deps.job, shard: this.deps.shard, kind: "fatal" });
          throw err;
        }
        this.deps.metrics.errors.inc({ job: this.deps.job, shard: this.deps.shard, kind: "retryable" });
      }
      // A link that streamed for a while was healthy: start the backoff over.
      if (Date.now() - connectedAt > 30_000) attempt = 0;
      resume = await this.resumePoint();
      this.reconnects++;
      this.deps.metrics.reconnects.inc({
        job: this.deps.job,
        shard: this.deps.shard,
        reason: this.phaseReason(),
      });
      // A failover moved the shard to another master: connect there at once (PSYNC continues).
      const switched = this.switchPending;
      this.switchPending = false;
      if (switched) attempt = 0;
      const delay = switched
        ? 0
        : backoffDelay(attempt++, this.deps.config.backoff.baseMs, this.deps.config.backoff.maxMs);
      this.deps.log.warn(
        {
          shard: this.deps.shard,
          error: this.lastError,
          retryInMs: delay,
          resume: resume ? resume.offset : "full resync",
        },
        "replication link lost; reconnecting",
      );
      this.phase = "connecting";
      this.wake = new AbortController();
      if (!this.stopping && !this.switchPending) await sleep(delay, this.wake.signal);
    }
    await this.batcher.close();
    this.phase = "stopped";
  }

  /** Stop reading from the source; what was read is flushed to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    this.wake.abort();
    await this.session?.close();
  }

  /**
   * Replicate from another master from now on (a source failover promoted a replica). The current
   * link is closed and the supervisor reconnects at once with `PSYNC <replid> <offset+1>` from what
   * was handed on: a promoted replica keeps the old history (psync2), so it answers +CONTINUE.
   */
  async switchEndpoint(endpoint: RedisEndpoint): Promise<void> {
    if (endpoint.host === this.endpoint.host && endpoint.port === this.endpoint.port) return;
    this.endpoint = endpoint;
    this.switchPending = true;
    this.wake.abort();
    await this.session?.close();
  }

  /** Stream offset handed to the batcher so far (0 while there is none). */
  get handedOffset(): number {
    return this.phase === "streaming" ? (this.handed?.offset ?? 0) : 0;
  }

  /** The master this shard replicates from now. */
  get address(): string {
    return `${this.endpoint.host}:${this.endpoint.port}`;
  }

  private phaseReason(): string {
    return this.phase === "snapshot" ? "snapshot" : "stream";
  }

  private async resumePoint(): Promise<Resume> {
    try {
      await this.batcher.flush();
    } catch (err) {
      if (!isRetryable(err)) throw err;
    }
    if (this.phase === "snapshot" || this.handed === null) {
      // Interrupted snapshot (or none yet): resume from the marker if it is in stream form.
      const marker = await this.deps.readMarker().catch(() => null);
      if (
        this.phase !== "snapshot" &&
        marker &&
        marker.seq === undefined &&
        marker.replid !== LEGACY_REPLID
      ) {
        return { replid: marker.replid, offset: marker.offset, db: marker.db };
      }
      return null;
    }
    return this.handed.replid === LEGACY_REPLID ? null : this.handed;
  }

  // ── ReplicaSink ────────────────────────────────────────────────────────────────────────────

  async fullResync(info: FullResyncInfo): Promise<void> {
    const resnapshot = this.snapshotsStarted > 0 || this.hadMarkerAtStart;
    this.snapshotsStarted++;
    this.deps.metrics.fullResyncs.inc({ job: this.deps.job, shard: this.deps.shard });
    this.deps.log.info(
      {
        shard: this.deps.shard,
        replid: info.replid,
        offset: info.offset,
        rdbBytes: info.rdbSize ?? "diskless",
      },
      // Only a PSYNC that named an offset can be refused; `PSYNC ? -1` (an unfinished snapshot, no
      // marker) asked for the snapshot.
      resnapshot && this.asked
        ? "full resync: the source could not continue from our offset, taking a new snapshot"
        : resnapshot
          ? "full resync: taking a new snapshot (the previous one did not finish)"
          : "full resync: streaming the snapshot",
    );
    this.phase = "snapshot";
    this.replid = info.replid;
    this.handed = null;
    this.snapshotOffset = info.offset;
    this.seq = 0;
    this.snapshotBytesTotal = info.rdbSize;
    this.snapshotBytesDone = 0;
    this.keysDone = 0;
    this.snapshotApplied = false;
    this.lag.reset(info.offset);
    if (this.asked) void this.explainResync(this.asked, info);
    if (resnapshot) {
      if (!this.deps.appliedElsewhere) await this.drained();
      await this.deps.beforeResnapshot(`full resync of shard ${this.deps.shard}`);
    }
    // A queue that caps message sizes caps commands too: big values then come in smaller chunks.
    const cap = this.deps.config.maxCommandBytes;
    this.translator = new SnapshotTranslator({
      target: this.deps.target,
      filter: this.deps.filter,
      ...(cap ? { limits: { maxBytes: cap } } : {}),
    });
    this.parser = createRdbParser(
      {
        captureRaw: true,
        bigKeyThreshold: Math.min(this.deps.config.bigKeyThreshold, cap ?? Number.POSITIVE_INFINITY),
        ...(cap ? { chunkBytes: Math.min(cap, 1024 * 1024) } : {}),
        modules: "capture",
        // Values bound for RESTORE come as DUMP payloads, never decoded (most of the parser's work).
        dumps: (_magic, version) => this.translator!.acceptsDumps(version),
        outputBudget: PACED_OUTPUT_BUDGET,
      },
      (event) => this.events.push(event),
    );
    await this.batcher.beginSnapshot(info.replid, info.offset);
  }

  /**
   * An idle master sends its replicas nothing but a PING every repl-ping-replica-period (default
   * 10 s): a read timeout at or below that takes every idle moment for a dead link and reconnects.
   */
  private async checkReadTimeout(): Promise<void> {
    let client: Awaited<ReturnType<typeof connectRedis>> | null = null;
    try {
      client = await connectRedis(this.deps.endpoint, { name: "ferry-check" });
      const [, value] = (await client.config("GET", "repl-ping-replica-period")) as string[];
      const periodMs = Number(value) * 1000;
      const { readTimeoutMs } = this.deps.config;
      if (Number.isFinite(periodMs) && periodMs > 0 && readTimeoutMs <= periodMs) {
        this.deps.log.warn(
          { shard: this.deps.shard, readTimeoutMs, pingPeriodMs: periodMs },
          `--read-timeout ${readTimeoutMs} ms is not longer than the source's repl-ping-replica-period ` +
            `(${periodMs / 1000} s): an idle link will look dead; use --read-timeout ${2 * periodMs} or more`,
        );
      }
    } catch {
      // CONFIG refused (managed service, ACL): nothing to check against.
    } finally {
      client?.disconnect();
    }
  }

  /**
   * We asked to continue and got a snapshot: say why, and what to raise on the source so the next
   * outage resumes (read on a side connection; never holds up the snapshot, never fails the job).
   */
  private async explainResync(asked: NonNullable<Resume>, info: FullResyncInfo): Promise<void> {
    const loss = this.lastLoss;
    let client: Awaited<ReturnType<typeof connectRedis>> | null = null;
    try {
      client = await connectRedis(this.endpoint, { name: "ferry-advice" });
      const settings = await readReplicationSettings(client);
      const explanation = explainFullResync({
        asked: { replid: asked.replid, offset: asked.offset },
        answered: { replid: info.replid, offset: info.offset },
        ...settings,
        outageSeconds: loss ? (Date.now() - loss.at) / 1000 : null,
        closedBySource: loss?.closedBySource ?? false,
        unreadAtLoss: loss?.unread ?? null,
      });
      this.deps.log.warn(
        {
          shard: this.deps.shard,
          askedOffset: asked.offset,
          fullResyncOffset: info.offset,
          advice: explanation.advice,
          ...(explanation.backlogSize ? { backlogSize: explanation.backlogSize } : {}),
          ...(explanation.outputBufferLimit ? { outputBufferLimit: explanation.outputBufferLimit } : {}),
        },
        `full resync instead of +CONTINUE: ${explanation.reason}`,
      );
    } catch (err) {
      this.deps.log.warn(
        { shard: this.deps.shard, error: (err as Error).message },
        "full resync instead of +CONTINUE (could not read the source's repl-backlog-size to say why)",
      );
    } finally {
      client?.disconnect();
    }
  }

  async rdbChunk(chunk: Buffer): Promise<void> {
    this.snapshotBytesDone += chunk.length;
    this.deps.metrics.snapshotBytes.inc({ job: this.deps.job, shard: this.deps.shard }, chunk.length);
    this.parser!.write(chunk);
    await drainParser(this.parser!, () => this.flushEvents());
  }

  async rdbEnd(): Promise<void> {
    this.parser!.end();
    await drainParser(this.parser!, () => this.flushEvents());
    await this.batcher.endSnapshot();
    this.sealedSnapshotLast = this.seq;
    if (this.seq === 0) this.snapshotApplied = true;
    const counters = this.translator!.counters;
    this.deps.log.info(
      {
        shard: this.deps.shard,
        keys: counters.keys,
        restored: counters.restored,
        rewritten: counters.rewritten,
        bigKeys: counters.bigKeys,
        skippedExpired: counters.skippedExpired,
        filtered: counters.filtered,
      },
      "snapshot read; applying the rest and then the live stream",
    );
    this.parser = null;
    // The stream continues right after the snapshot's offset; an offset-only batch switches the
    // marker to its stream form even when the source is idle.
    this.phase = "streaming";
    this.handed = { replid: this.replid!, offset: this.snapshotOffset, db: 0 };
    await this.batcher.beginStream(this.replid!, this.snapshotOffset);
    await this.batcher.stream([], this.snapshotOffset, 0);
  }

  async continued(info: ContinueInfo): Promise<void> {
    this.deps.log.info(
      { shard: this.deps.shard, replid: info.replid, offset: info.offset, replidChanged: info.replidChanged },
      "partial resync: continuing from our offset (no snapshot needed)",
    );
    this.phase = "streaming";
    this.replid = info.replid;
    this.handed = { replid: info.replid, offset: info.offset, db: this.session?.db ?? 0 };
    await this.batcher.beginStream(info.replid, info.offset);
  }

  async commands(commands: Command[], endOffset: number, db: number): Promise<void> {
    this.lag.received(endOffset);
    let input = commands;
    const handoff = this.deps.handoff;
    if (handoff) {
      const inspected = handoff.inspect(this.deps.shard, commands);
      input = inspected.commands;
      if (inspected.barrier) {
        // A key migrated in from another master: what the other shards already read (the old
        // owner's DEL of it among them) is applied first. Our own earlier commands go out now,
        // so a shard waiting on us in turn cannot wait forever.
        await this.batcher.flush();
        await handoff.barrier(this.deps.shard);
      }
    }
    const kept: Command[] = [];
    if (!(this.deps.config.mode === "full-only" && this.snapshotsStarted > 0)) {
      for (const command of input) {
        const mapped = this.deps.filter.command(command, this.deps.commandTable);
        if (mapped) kept.push(mapped);
      }
    }
    this.handed = { replid: this.replid!, offset: endOffset, db };
    await this.batcher.stream(kept, endOffset, db);
  }

  private async flushEvents(): Promise<void> {
    if (this.events.length === 0) return;
    const out: Command[] = [];
    const apply = this.deps.config.mode !== "incremental-only" || this.hadMarkerAtStart;
    const keysBefore = this.keysDone;
    for (const event of this.events.splice(0)) {
      if (event.kind === "key" || event.kind === "key-dump" || event.kind === "key-end") this.keysDone++;
      if (!apply) continue;
      for (const command of this.translator!.translate(event)) {
        out.push({ argv: command.argv, db: command.db, offset: this.snapshotOffset, seq: ++this.seq });
      }
    }
    this.deps.metrics.snapshotKeys.inc(
      { job: this.deps.job, shard: this.deps.shard },
      this.keysDone - keysBefore,
    );
    if (out.length > 0) await this.batcher.snapshot(out);
  }

  // ── apply side ─────────────────────────────────────────────────────────────────────────────

  /** The apply loop applied one of this shard's batches. */
  onApplied(batch: Batch, result: ApplyResult): void {
    this.appliedBatches++;
    const labels = { job: this.deps.job, shard: this.deps.shard };
    this.deps.metrics.appliedCommands.inc(labels, result.applied);
    this.deps.metrics.appliedBytes.inc(labels, batch.bytes);
    if (batch.kind === "snapshot") {
      if (batch.last >= this.sealedSnapshotLast && this.parser === null) this.snapshotApplied = true;
    } else {
      this.snapshotApplied = true;
      this.lag.applied(batch.last, result.applied);
      this.session?.setAppliedOffset(batch.last);
      this.deps.metrics.appliedOffset.set(labels, batch.last);
    }
    if (this.appliedBatches >= this.batcher.sealedBatches)
      for (const wake of this.drainWaiters.splice(0)) wake();
    this.wakeSynced();
  }

  /**
   * AWS shape: the applied offset another process recorded for this shard (OffsetStore). It drives
   * the ACKs the master sees (without them it drops us after repl-timeout) and the lag. The store
   * only moves once the marker is back in stream form, so reaching the snapshot's offset in the
   * current history means the snapshot is applied.
   */
  appliedFromStore(replid: string, offset: number): void {
    if (replid !== this.replid || this.phase !== "streaming" || offset < this.snapshotOffset) return;
    this.snapshotApplied = true;
    // Never ACK past what this link received: the store may hold what a previous process sent.
    const ack = Math.min(offset, this.lag.offsets.received);
    this.lag.applied(ack);
    this.session?.setAppliedOffset(ack);
    this.deps.metrics.appliedOffset.set({ job: this.deps.job, shard: this.deps.shard }, ack);
    this.wakeSynced();
  }

  private wakeSynced(): void {
    const applied = this.lag.offsets.applied;
    for (let i = this.syncedWaiters.length - 1; i >= 0; i--) {
      const waiter = this.syncedWaiters[i]!;
      if (this.snapshotApplied && applied >= waiter.atLeast) {
        this.syncedWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** Resolves once every batch this shard sealed has been applied. */
  drained(): Promise<void> {
    if (this.appliedBatches >= this.batcher.sealedBatches) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Resolves once the snapshot is applied and the applied offset reached `offset`. */
  syncedTo(offset: number): Promise<void> {
    if (this.snapshotApplied && this.phase === "streaming" && this.lag.offsets.applied >= offset) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.syncedWaiters.push({ atLeast: offset, resolve }));
  }

  /** True once the latest snapshot is applied and the shard streams. */
  get streaming(): boolean {
    return this.phase === "streaming" && this.snapshotApplied;
  }

  sourceOffset(offset: number): void {
    this.lag.source(offset);
    this.deps.metrics.sourceOffset.set({ job: this.deps.job, shard: this.deps.shard }, offset);
    // /metrics is scraped without anyone calling status(): keep the lag gauges current here too
    // (the source offset is polled about every second).
    this.progress();
  }

  progress(): ShardProgress {
    const lag = this.lag.snapshot();
    const labels = { job: this.deps.job, shard: this.deps.shard };
    this.deps.metrics.lagBytes.set(labels, lag.lagBytes);
    this.deps.metrics.lagSeconds.set(labels, lag.lagSeconds);
    return {
      shard: this.deps.shard,
      address: `${this.endpoint.host}:${this.endpoint.port}`,
      phase: this.phase === "streaming" && !this.snapshotApplied ? "snapshot" : this.phase,
      replid: this.replid,
      receivedOffset: lag.receivedOffset,
      appliedOffset: lag.appliedOffset,
      // The master is at least where we have read up to; its polled offset can be a second old.
      sourceOffset: Math.max(lag.sourceOffset, lag.receivedOffset),
      lagBytes: lag.lagBytes,
      lagSeconds: lag.lagSeconds,
      opsPerSecond: lag.opsPerSecond,
      snapshotBytesDone: this.snapshotBytesDone,
      snapshotBytesTotal: this.snapshotBytesTotal,
      keysDone: this.keysDone,
      reconnects: this.reconnects,
      lastError: this.lastError,
    };
  }
}

export function describeError(err: unknown): { message: string; advice?: string } {
  if (err instanceof FerryError)
    return err.advice ? { message: err.message, advice: err.advice } : { message: err.message };
  if (err instanceof FatalError) return { message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}

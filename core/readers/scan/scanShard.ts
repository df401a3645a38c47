/**
 * Scan reader for one source master (DESIGN.md's fallback when PSYNC is renamed or blocked):
 *
 *   1. check `notify-keyspace-events`, then PSUBSCRIBE to the node's notifications — BEFORE the
 *      scan, so every write after a key was read names that key again;
 *   2. SCAN every db (a cluster node: db 0, its own slots) and copy each key (keyCopier.ts);
 *   3. copy every key named by a notification, oldest first, deduplicated in a bounded set; when
 *      the set overflows or the subscription was lost (pub/sub does not replay), scan again.
 *
 * Every copy of a key goes through this one loop and one Batcher, so the target applies the copies
 * of a key in the order they were read: the last read wins, per key. There is no cross-key
 * atomicity (a source MULTI touching two keys may be seen half-applied for a moment).
 */
import type { Redis } from "ioredis";
import { connectRedis } from "../../connect/client.ts";
import { FatalError, FerryError, isRetryable } from "../../errors.ts";
import type { Filter } from "../../filters/filter.ts";
import type { Batch, Command, ShardProgress } from "../../model.ts";
import type { Logger } from "../../observability/logger.ts";
import { Batcher } from "../../pipeline/batcher.ts";
import type { BatchQueue } from "../../ports.ts";
import type { RedisEndpoint } from "../../replication/types.ts";
import type { TargetInfo } from "../../snapshot/target.ts";
import { SnapshotTranslator } from "../../snapshot/translator.ts";
import { DirtyKeySet } from "./dirtyKeys.ts";
import { KeyCopier } from "./keyCopier.ts";
import { judgeNotifyFlags, notifyFlagsError, notifyPattern, parseNotification } from "./notify.ts";
import { keysGoneFromSource } from "./reconcile.ts";

export interface ScanShardOptions {
  job: string;
  shard: string;
  /** Replication-history id of this run's batches (markers compare it; never reused). */
  replid: string;
  endpoint: RedisEndpoint;
  /** A cluster node serves db 0 only. */
  clusterNode: boolean;
  filter: Filter;
  target: TargetInfo;
  queue: Pick<BatchQueue, "send">;
  log: Logger;
  bigKeyThreshold: number;
  batch: { maxCommands: number; maxBytes: number; maxDelayMs: number };
  /** Bound of the dirty-key set (default 100,000 keys); beyond it → rescan. */
  maxDirtyKeys?: number;
  /** SCAN COUNT and keys per DUMP pipeline (default 500). */
  scanCount?: number;
  /**
   * After a rescan caused by lost notifications, also walk the target for keys deleted on the
   * source meanwhile (reconcile.ts). Only for a standalone source and target, without renames.
   */
  reconcile?: { target: RedisEndpoint; markerPrefix: string };
  /** Called before a read from the source (keys about to be read): source-side rate limit. */
  beforeRead?: (keys: number) => Promise<void>;
}

export interface ScanShardStatus {
  shard: string;
  address: string;
  /** scanning: a full pass is running; following: copying notified keys. */
  state: "connecting" | "scanning" | "following" | "stopped" | "failed";
  /** Full passes finished (the first one is the initial copy). */
  scans: number;
  /** Why later passes ran: dirty set overflows and notification links lost. */
  rescans: { overflow: number; disconnect: number };
  dirtyKeys: number;
  /** Age of the oldest notified key not copied yet, ms (the lag of scan mode). */
  oldestDirtyMs: number;
  notifications: number;
  keysCopied: number;
  keysDeleted: number;
  lastError: string | null;
}

export class ScanShard {
  private readonly dirty: DirtyKeySet;
  private readonly batcher: Batcher;
  private readonly translator: SnapshotTranslator;
  private readonly copier: KeyCopier;
  private reader: Redis | null = null;
  private targetReader: Redis | null = null;
  private subscriber: Redis | null = null;
  private state: ScanShardStatus["state"] = "connecting";
  private stopping = false;
  private wake: (() => void) | null = null;
  private rescanReason: "overflow" | "disconnect" | null = null;
  private scans = 0;
  private readonly rescans = { overflow: 0, disconnect: 0 };
  private notifications = 0;
  private lastError: string | null = null;
  /** Commands handed to the batcher / applied on the target (offsets of this run's history). */
  private handed = 0;
  private applied = 0;
  private readonly waiters: Array<{ check: () => boolean; resolve: () => void }> = [];

  constructor(private readonly opts: ScanShardOptions) {
    this.dirty = new DirtyKeySet(opts.maxDirtyKeys ?? 100_000);
    this.batcher = new Batcher({
      job: opts.job,
      shard: opts.shard,
      queue: opts.queue,
      maxCommands: opts.batch.maxCommands,
      maxBytes: opts.batch.maxBytes,
      maxAgeMs: opts.batch.maxDelayMs,
    });
    this.translator = new SnapshotTranslator({ target: opts.target, filter: opts.filter });
    this.copier = new KeyCopier({
      filter: opts.filter,
      translator: this.translator,
      bigKeyThreshold: opts.bigKeyThreshold,
    });
  }

  get address(): string {
    return `${this.opts.endpoint.host}:${this.opts.endpoint.port}`;
  }

  /** Copy until stop() or a fatal error (rejects with it). */
  async run(): Promise<void> {
    try {
      this.reader = await connectRedis(this.opts.endpoint, { name: "ferry-scan", longLived: true });
      const kind = await this.checkNotifications(this.reader);
      await this.subscribe(kind);
      await this.batcher.beginStream(this.opts.replid, 0);
      await this.loop();
      await this.batcher.close();
      this.state = "stopped";
    } catch (err) {
      this.state = "failed";
      this.lastError = (err as Error).message;
      throw err;
    } finally {
      this.subscriber?.disconnect();
      this.reader?.disconnect();
      this.targetReader?.disconnect();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
  }

  private async checkNotifications(client: Redis): Promise<"keyevent" | "keyspace"> {
    let flags: string | null = null;
    try {
      const reply = (await client.call("CONFIG", "GET", "notify-keyspace-events")) as string[];
      flags = reply[1] ?? "";
    } catch (err) {
      // Managed services block CONFIG: we cannot look, so trust the user and say so.
      this.opts.log.warn(
        { shard: this.opts.shard, error: (err as Error).message },
        "cannot read notify-keyspace-events (CONFIG GET refused); scan mode needs it set to KEA — changes are missed otherwise",
      );
      return "keyevent";
    }
    const verdict = judgeNotifyFlags(flags);
    if (!verdict.ok) throw notifyFlagsError(this.address, flags);
    if (verdict.missesEvictions)
      this.opts.log.warn(
        { shard: this.opts.shard, flags },
        "notify-keyspace-events has no `e`: keys evicted on the source stay on the target (use KEA)",
      );
    return verdict.kind;
  }

  private async subscribe(kind: "keyevent" | "keyspace"): Promise<void> {
    const sub = await connectRedis(this.opts.endpoint, { name: "ferry-notify", longLived: true });
    this.subscriber = sub;
    // Re-subscribing ourselves tells us when the link is back, which is when the rescan may start.
    sub.options.autoResubscribe = false;
    const pattern = notifyPattern(kind);
    let lost = false;
    sub.on("pmessageBuffer", (_pattern: Buffer, channel: Buffer, message: Buffer) =>
      this.onNotification(channel, message),
    );
    sub.on("close", () => {
      if (!this.stopping) lost = true;
    });
    sub.on("ready", () => {
      if (!lost || this.stopping) return;
      lost = false;
      sub.psubscribe(pattern).then(
        () => this.requestRescan("disconnect"),
        () => {}, // the next ready retries
      );
    });
    sub.on("end", () => {
      if (!this.stopping) this.requestRescan("disconnect");
    });
    await sub.psubscribe(pattern);
  }

  private onNotification(channel: Buffer, message: Buffer): void {
    const n = parseNotification(channel, message);
    if (!n) return;
    this.notifications++;
    if (this.opts.clusterNode && n.db !== 0) return;
    if (!this.dirty.add(n.db, n.key)) {
      this.opts.log.warn(
        { shard: this.opts.shard, maxDirtyKeys: this.dirty.maxKeys },
        "more changed keys than the dirty-key bound: dropping the list and rescanning",
      );
      this.requestRescan("overflow");
    }
    this.wake?.();
  }

  private requestRescan(reason: "overflow" | "disconnect"): void {
    this.rescanReason ??= reason;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let needScan = true;
    let attempt = 0;
    while (!this.stopping) {
      try {
        if (this.rescanReason) {
          this.rescans[this.rescanReason]++;
          this.rescanReason = null;
          needScan = true;
        }
        if (needScan) {
          needScan = false;
          this.dirty.clear();
          await this.fullScan();
          if (this.scans > 0) await this.reconcile();
          this.scans++;
        } else if (this.dirty.size > 0) {
          this.state = "following";
          await this.copyDirty();
        } else {
          this.state = "following";
          this.notifyWaiters();
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = null;
        }
        attempt = 0;
      } catch (err) {
        if (!retryableReadError(err)) throw readErrorAdvice(err) ?? err;
        // Keys taken from the dirty set may not have been copied: a new pass covers them.
        this.lastError = (err as Error).message;
        needScan = true;
        const delay = Math.min(200 * 2 ** attempt++, 10_000);
        this.opts.log.warn(
          { shard: this.opts.shard, error: this.lastError, retryInMs: delay },
          "reading the source failed; scanning again once it answers",
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async fullScan(): Promise<void> {
    this.state = "scanning";
    const reader = this.reader!;
    const count = this.opts.scanCount ?? 500;
    for (const db of await this.dbsWithKeys(reader)) {
      let cursor = "0";
      do {
        if (this.stopping) return;
        const replies = (await reader.pipeline().select(db).scanBuffer(cursor, "COUNT", count).exec()) ?? [];
        const [err, reply] = replies[1] ?? [new Error("SCAN: no reply"), null];
        if (err) throw err;
        const [next, keys] = reply as [Buffer, Buffer[]];
        cursor = next.toString();
        await this.copyKeys(
          db,
          keys.filter((k) => this.copier.wanted(db, k)),
        );
      } while (cursor !== "0");
    }
  }

  private async reconcile(): Promise<void> {
    const opts = this.opts.reconcile;
    if (!opts) {
      this.opts.log.warn(
        { shard: this.opts.shard },
        "rescanned after lost notifications: keys deleted on the source meanwhile may remain on the target (cluster or renamed keys); run `ferry verify`",
      );
      return;
    }
    this.targetReader ??= await connectRedis(opts.target, { name: "ferry-reconcile", longLived: true });
    const batches = keysGoneFromSource({
      source: this.reader!,
      target: this.targetReader,
      filter: this.opts.filter,
      markerPrefix: opts.markerPrefix,
      count: this.opts.scanCount ?? 500,
    });
    for await (const { db, keys } of batches) {
      if (this.stopping) return;
      await this.copyKeys(db, keys);
    }
  }

  /** dbs to scan: those with keys (INFO keyspace) that the filter keeps; db 0 on a cluster node. */
  private async dbsWithKeys(reader: Redis): Promise<number[]> {
    if (this.opts.clusterNode) return [0];
    const info = await reader.info("keyspace");
    const dbs = [...info.matchAll(/^db(\d+):keys=/gm)].map((m) => Number(m[1]));
    return dbs.filter((db) => this.opts.filter.mapDb(db) !== null);
  }

  private async copyDirty(): Promise<void> {
    const taken = this.dirty.take(this.opts.scanCount ?? 500);
    const byDb = new Map<number, Buffer[]>();
    for (const { db, key } of taken) {
      if (!this.copier.wanted(db, key)) continue;
      const list = byDb.get(db) ?? [];
      list.push(key);
      byDb.set(db, list);
    }
    for (const [db, keys] of byDb) await this.copyKeys(db, keys);
  }

  private async copyKeys(db: number, keys: Buffer[]): Promise<void> {
    if (keys.length === 0) return;
    await this.opts.beforeRead?.(keys.length);
    const produced = await this.copier.copy(this.reader!, db, keys);
    if (produced.length === 0) return;
    const commands: Command[] = produced.map((c) => ({ argv: c.argv, db: c.db, offset: ++this.handed }));
    await this.batcher.stream(commands, this.handed, commands[commands.length - 1]!.db);
  }

  // ── apply side ─────────────────────────────────────────────────────────────────────────────

  onApplied(batch: Batch): void {
    this.applied = Math.max(this.applied, batch.last);
    this.notifyWaiters();
  }

  /** Caught up: a full pass done, nothing dirty, everything handed applied. */
  get synced(): boolean {
    return (
      this.scans > 0 &&
      this.rescanReason === null &&
      this.state === "following" &&
      this.dirty.size === 0 &&
      this.applied >= this.handed
    );
  }

  /** Resolves once synced (see `synced`). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ check: () => this.synced, resolve }));
  }

  /** Resolves once every command handed so far is applied. */
  async drained(): Promise<void> {
    await this.batcher.flush();
    const atLeast = this.handed;
    if (this.applied >= atLeast) return;
    await new Promise<void>((resolve) =>
      this.waiters.push({ check: () => this.applied >= atLeast, resolve }),
    );
  }

  private notifyWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.check()) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  status(): ScanShardStatus {
    return {
      shard: this.opts.shard,
      address: this.address,
      state: this.state,
      scans: this.scans,
      rescans: { ...this.rescans },
      dirtyKeys: this.dirty.size,
      oldestDirtyMs: this.dirty.oldestAgeMs(),
      notifications: this.notifications,
      keysCopied: this.copier.counters.copied,
      keysDeleted: this.copier.counters.deleted,
      lastError: this.lastError,
    };
  }

  /** The shared progress shape: offsets count commands of this run; lagSeconds = oldest dirty key. */
  progress(): ShardProgress {
    const phase: ShardProgress["phase"] =
      this.state === "connecting"
        ? "connecting"
        : this.state === "failed"
          ? "failed"
          : this.state === "stopped"
            ? "stopped"
            : this.scans === 0
              ? "snapshot"
              : "streaming";
    return {
      shard: this.opts.shard,
      address: this.address,
      phase,
      replid: this.opts.replid,
      receivedOffset: this.handed,
      appliedOffset: this.applied,
      sourceOffset: this.handed,
      lagBytes: 0,
      lagSeconds: this.dirty.oldestAgeMs() / 1000,
      opsPerSecond: 0,
      snapshotBytesDone: 0,
      snapshotBytesTotal: null,
      keysDone: this.copier.counters.copied,
      reconnects: this.rescans.disconnect,
      lastError: this.lastError,
    };
  }
}

/**
 * Connection trouble (reset, timeout, LOADING, BUSY) heals with a rescan; anything the server
 * refuses for good (NOPERM on DUMP, a module value the target cannot take) does not.
 */
function retryableReadError(err: unknown): boolean {
  if (err instanceof FerryError) return isRetryable(err);
  const message = (err as Error)?.message ?? "";
  if (/^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)/.test(message)) return true;
  if ((err as { name?: string })?.name === "ReplyError") return false;
  return true;
}

export function readErrorAdvice(err: unknown): FatalError | null {
  const message = (err as Error)?.message ?? "";
  if (/NOPERM|unknown command/i.test(message))
    return new FatalError(
      `the source refuses a command scan mode needs: ${message}`,
      "give the ferry user +scan +dump +pttl +info +select +psubscribe (and +config|get) on the source",
    );
  return null;
}

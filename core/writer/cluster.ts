/**
 * TargetWriter for a Redis Cluster target (DESIGN.md "Exactly-once apply", per slot).
 *
 * - Each slot's part of a batch runs in one MULTI…EXEC on the slot's master together with that
 *   slot's marker `__ferry:{<tag>}<job>:<shard>`; entries at or below the marker are dropped.
 * - A shard-level marker `__ferry:<job>:<shard>` ("everything of this shard up to X is applied")
 *   is written after every part of a batch succeeded, only forward. It is what `readMarker` (and so
 *   resume) returns, and it is the floor below which every slot counts as applied — a slot that
 *   never received a command has no marker of its own.
 * - Barriers (FLUSHALL & co. on every master, emulated cross-slot RENAME/COPY/LMOVE) run after the
 *   parts before them, with the shard marker advanced first so a partial barrier replays safely.
 */
import type { NodeAddr } from "../cluster/connect.ts";
import { SLOT_COUNT, slotOf } from "../cluster/slots.ts";
import { SlotTable } from "../cluster/slotTable.ts";
import { builtinCommandTable, type CommandTable } from "../commands/index.ts";
import { RetryableError } from "../errors.ts";
import type { Batch } from "../model.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { type BarrierContext, broadcast, emulateMove } from "./clusterBarriers.ts";
import { applyOnNode, type NodePart } from "./clusterBatch.ts";
import { routingKeys } from "./clusterKeys.ts";
import { applyPart, type MarkerCache, type PartResult, slotMarkerKey, stateAt } from "./clusterPart.ts";
import { type Entry, type Position, planBatch, type Step } from "./clusterPlan.ts";
import { NodePool, onSlot, type RouteOptions, type RouteStats, withAsking } from "./clusterRoute.ts";
import { WirePool } from "./clusterWire.ts";
import { DEFAULT_MARKER_PREFIX, decodeMarker, encodeMarker, isApplied, markerKey } from "./marker.ts";
import { snapshotEndBatch } from "./snapshotEnd.ts";
import { followsMarker } from "./transaction.ts";
import type { ApplyResult, MarkerState, TargetWriter } from "./types.ts";

export interface ClusterWriterOptions {
  /** Credentials/TLS for every node; host/port is the first seed. */
  endpoint: RedisEndpoint;
  /** More seed nodes (any node of the cluster will do). */
  seeds?: NodeAddr[];
  markerPrefix?: string;
  /** Key positions (from `loadCommandTable(target)`); default: the built-in table. */
  commandTable?: CommandTable;
  /** How long one slot may stay unavailable (failover, migration) before apply fails retryably. Default 60 s. */
  retryTimeoutMs?: number;
  /** Background topology refresh. Default 10 s; 0 disables. */
  refreshIntervalMs?: number;
  onWarn?: (message: string) => void;
  /**
   * Apply each slot's part as one script (marker check, commands, marker) when its commands allow
   * it, instead of WATCH/guard/MULTI/EXEC (see clusterScript.ts). Default true.
   */
  scriptParts?: boolean;
}

export class ClusterWriter implements TargetWriter {
  private readonly pool: NodePool;
  /** Raw connections for the batched script parts (clusterBatch.ts). */
  private readonly wire: WirePool;
  private readonly prefix: string;
  private readonly keyIndexes: (argv: Buffer[]) => number[] | null;
  /** For the one-script parts; undefined = always the MULTI path. */
  private readonly scriptTable: CommandTable | undefined;
  private readonly route: RouteOptions;
  /** MOVED/ASK redirects followed and retries (TRYAGAIN, CLUSTERDOWN, lost links) so far. */
  readonly stats: RouteStats = { moved: 0, ask: 0, retries: 0 };
  private readonly markers: MarkerCache = new Map();
  private readonly barriers: BarrierContext;
  /** Last apply started per shard: batches of one shard run one after the other (see apply). */
  private readonly tails = new Map<string, Promise<void>>();
  /**
   * Shards (job, shard) that had no shard marker when this writer first applied them: their slot
   * markers are either cached here or absent, so the batched path sends a part whose marker is
   * not cached expecting none instead of reading it first (clusterBatch.ts; a wrong guess costs a
   * round, never a double apply).
   */
  private readonly fresh = new Set<string>();
  private readonly slotMarkerKeys = new Map<string, Array<string | undefined>>();

  private constructor(
    private readonly table: SlotTable,
    opts: ClusterWriterOptions,
  ) {
    this.pool = new NodePool(opts.endpoint);
    this.wire = new WirePool(opts.endpoint);
    this.prefix = opts.markerPrefix ?? DEFAULT_MARKER_PREFIX;
    this.keyIndexes = routingKeys(opts.commandTable);
    this.scriptTable = opts.scriptParts === false ? undefined : (opts.commandTable ?? builtinCommandTable);
    this.route = {
      retryTimeoutMs: opts.retryTimeoutMs ?? 60_000,
      onWarn: opts.onWarn ?? (() => {}),
      stats: this.stats,
    };
    this.barriers = {
      table,
      pool: this.pool,
      route: this.route,
      prefix: this.prefix,
      markers: this.markers,
      applySlot: (batch, slot, entries, floor) => this.applySlot(batch, slot, entries, floor),
    };
  }

  static async connect(opts: ClusterWriterOptions): Promise<ClusterWriter> {
    const table = new SlotTable(opts.endpoint, [opts.endpoint, ...(opts.seeds ?? [])]);
    await table.refresh();
    if ((opts.refreshIntervalMs ?? 10_000) > 0) table.startPeriodic(opts.refreshIntervalMs ?? 10_000);
    return new ClusterWriter(table, opts);
  }

  /** Masters currently believed to serve slots (`host:port`). */
  masters(): string[] {
    return this.table.masters();
  }

  /**
   * Batches of one shard are applied strictly one after the other, even when the caller starts
   * several at once (the apply loop does, to pipeline a standalone target): a later batch's slot
   * part reaching a node first would move that slot's marker past the earlier batch's entries,
   * which would then be dropped as "already applied". Different shards still run in parallel.
   */
  apply(batch: Batch): Promise<ApplyResult> {
    const key = shardId(batch);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(() => this.applyInOrder(batch));
    const tail = run.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  private async applyInOrder(batch: Batch): Promise<ApplyResult> {
    const end = batchEnd(batch);
    const shardKey = markerKey(this.prefix, batch.job, batch.shard);
    let floor = await this.readMarker(batch.job, batch.shard);
    // No shard marker: this writer starts the shard, so the slot markers it meets are its own.
    if (floor === null) this.fresh.add(shardId(batch));
    if (isApplied(floor, end.pos)) {
      return { applied: 0, skipped: batch.commands.length, marker: floor! };
    }
    // The batch before this one failed (or was lost): applying this one would move slot markers
    // past its commands. The queue redelivers both, in order.
    if (!followsMarker(batch, floor)) {
      const from = batch.kind === "snapshot" ? `snapshot seq ${batch.first}` : `offset ${batch.after}`;
      throw new RetryableError(
        `not applied: batch of shard ${batch.shard} continues from ${from} but the target's shard marker is at ${floor ? encodeMarker(floor) : "none"}`,
        "an earlier batch is missing or late; redeliver the batches of this shard in order",
      );
    }
    const steps = planBatch(batch, this.keyIndexes);
    let applied = 0;
    let previous: Entry | null = null;
    for (const step of steps) {
      if (step.kind === "parts") {
        applied += await this.applyParts(batch, step.parts, floor);
        previous = lastEntry(step);
        continue;
      }
      // A barrier: first make the shard floor cover everything before it, so that a barrier that
      // half ran (some masters flushed) replays without re-applying what came before it.
      if (previous && !isApplied(floor, previous.pos))
        floor = await this.advance(shardKey, floor, previous.pos);
      if (isApplied(floor, step.entry.pos)) {
        previous = step.entry;
        continue;
      }
      applied +=
        step.kind === "broadcast"
          ? await broadcast(this.barriers, step.entry, shardKey, floor)
          : await emulateMove(this.barriers, batch, step, floor);
      floor = await this.advance(shardKey, floor, step.entry.pos);
      previous = step.entry;
    }
    const marker = await this.advance(shardKey, floor, end.pos, end.db);
    return { applied, skipped: batch.commands.length - applied, marker };
  }

  /**
   * The snapshot of `replid` is fully applied: move the shard marker to the stream form at `offset`
   * (same contract as StandaloneWriter.finishSnapshot; never moves a marker backwards).
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

  async readMarker(job: string, shard: string): Promise<MarkerState | null> {
    const key = markerKey(this.prefix, job, shard);
    const value = await onSlot(this.table, this.pool, slotOf(key), this.route, (client, asking) =>
      withAsking(client, asking, () => client.getBuffer(key)),
    );
    return decodeMarker(value as Buffer | null);
  }

  async removeMarkers(job: string): Promise<number> {
    this.markers.clear();
    await this.table.refresh();
    const escaped = globEscape(job);
    const patterns = [`${globEscape(this.prefix)}${escaped}:*`, `${globEscape(this.prefix)}{*}${escaped}:*`];
    let removed = 0;
    for (const addr of this.table.masters()) {
      const client = this.pool.get(addr);
      for (const pattern of patterns) {
        let cursor = "0";
        do {
          const [next, keys] = (await client.scanBuffer(cursor, "MATCH", pattern, "COUNT", 1000)) as [
            Buffer,
            Buffer[],
          ];
          cursor = next.toString();
          // One key per UNLINK: keys of different slots in one call would be CROSSSLOT.
          const counts = await Promise.all(keys.map((k) => client.unlink(k)));
          removed += counts.reduce((a, b) => a + b, 0);
        } while (cursor !== "0");
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    this.table.stopPeriodic();
    this.pool.close();
    this.wire.close();
  }

  /**
   * The parts go to their nodes in one write per node (clusterBatch.ts); only the parts that did
   * not apply there (redirected, retried, not script-able) take the per-part path, which begins by
   * classifying the first attempt's error — so a part is never re-sent without its marker deciding.
   */
  private async applyParts(
    batch: Batch,
    parts: Map<number, Entry[]>,
    floor: MarkerState | null,
  ): Promise<number> {
    const byNode = new Map<string, NodePart[]>();
    const unrouted: Array<Promise<PartResult>> = [];
    for (const [slot, entries] of parts) {
      const addr = this.scriptTable ? this.table.nodeFor(slot) : undefined;
      if (addr === undefined) {
        unrouted.push(this.applySlot(batch, slot, entries, floor));
        continue;
      }
      const part = { slot, markerKey: this.slotMarker(batch, slot), entries };
      const list = byNode.get(addr);
      if (list) list.push(part);
      else byNode.set(addr, [part]);
    }
    // Promise.all at once on everything: a part failing while others are still out is never unhandled.
    const results = await Promise.all([
      Promise.all(unrouted),
      ...[...byNode].map(async ([addr, nodeParts]) => {
        const attempts = await applyOnNode(this.wire.get(addr), nodeParts, {
          floor,
          cache: this.markers,
          table: this.scriptTable!,
          guessAbsent: this.fresh.has(shardId(batch)),
        });
        return Promise.all(
          attempts.map((attempt, i) => {
            if (attempt.kind === "applied") return attempt.result;

            const { slot, entries } = nodeParts[i]!;
            return this.applySlot(
              batch,
              slot,
              entries,
              floor,
              attempt.kind === "failed" ? attempt : undefined,
            );
          }),
        );
      }),
    ]);
    return this.count(batch, results.flat());
  }

  private count(batch: Batch, results: readonly PartResult[]): number {
    // Split commands count once per source command, not once per slot.
    let applied = 0;
    const split = new Set<Position>();
    for (const result of results) {
      for (const entry of result.done) {
        if (entry.split) split.add(entry.pos);
        else applied++;
      }
      for (const error of result.errors) this.route.onWarn(`shard ${batch.shard}: target refused ${error}`);
    }
    return applied + split.size;
  }

  /** One part through onSlot; `failed`: how the batched first attempt ended (onSlot classifies it). */
  private applySlot(
    batch: Batch,
    slot: number,
    entries: Entry[],
    floor: MarkerState | null,
    failed?: { error: unknown },
  ): Promise<PartResult> {
    const key = this.slotMarker(batch, slot);
    let first = failed;
    return onSlot(this.table, this.pool, slot, this.route, (client, asking) => {
      if (first) {
        const { error } = first;
        first = undefined;
        return Promise.reject(error);
      }
      return applyPart(client, asking, key, entries, floor, this.markers, this.scriptTable);
    });
  }

  /** The slot marker key of the batch's shard, built once per slot (a snapshot meets every slot). */
  private slotMarker(batch: Batch, slot: number): string {
    const id = shardId(batch);
    let keys = this.slotMarkerKeys.get(id);
    if (!keys) {
      keys = new Array<string | undefined>(SLOT_COUNT);
      this.slotMarkerKeys.set(id, keys);
    }
    let key = keys[slot];
    if (key === undefined) {
      key = slotMarkerKey(this.prefix, batch.job, batch.shard, slot);
      keys[slot] = key;
    }
    return key;
  }

  /** Shard marker forward to `pos` (never backward: replays read it first and stop early). */
  private async advance(
    shardKey: string,
    floor: MarkerState | null,
    pos: Position,
    db = 0,
  ): Promise<MarkerState> {
    const next = stateAt(pos, db);
    if (isApplied(floor, pos) && floor) return floor;
    await onSlot(this.table, this.pool, slotOf(shardKey), this.route, (client, asking) =>
      withAsking(client, asking, () => client.set(shardKey, encodeMarker(next))),
    );
    return next;
  }
}

function shardId(batch: Batch): string {
  return `${batch.job}\u0000${batch.shard}`;
}

function batchEnd(batch: Batch): { pos: Position; db: number } {
  const last = batch.commands[batch.commands.length - 1];
  const db = batch.endDb ?? last?.db ?? 0;
  if (batch.kind === "snapshot") {
    const offset = batch.snapshotOffset ?? last?.offset ?? 0;
    return { pos: { replid: batch.replid, offset, seq: batch.last }, db };
  }
  return { pos: { replid: batch.replid, offset: batch.last }, db };
}

function lastEntry(step: Extract<Step, { kind: "parts" }>): Entry | null {
  let last: Entry | null = null;
  for (const entries of step.parts.values()) {
    const candidate = entries[entries.length - 1];
    if (candidate && (!last || after(candidate.pos, last.pos))) last = candidate;
  }
  return last;
}

function after(a: Position, b: Position): boolean {
  return a.offset !== b.offset ? a.offset > b.offset : (a.seq ?? 0) > (b.seq ?? 0);
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

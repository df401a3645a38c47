/**
 * Keys that MIGRATE moves between source masters while the job streams (a source resharding).
 *
 * What the streams carry (cluster.c migrateCommand / restoreCommand): the new owner B executes
 * `RESTORE-ASKING key ttl payload [REPLACE] ABSTTL` and propagates it as is; only after B replied
 * does the old owner A delete its copy and propagate `DEL key…`. Each shard's stream is applied in
 * its own order, but the two streams are independent: applied as they come, A's DEL can land on
 * the target after B's RESTORE (the key is lost), or B's RESTORE before A's DEL and fail with
 * BUSYKEY. The rule applied here:
 *
 * 1. `RESTORE-ASKING` on shard B becomes `RESTORE … REPLACE` and records an arrival (key → B). It is
 *    handed on only after every other shard has applied what it had handed on at that moment, so a
 *    DEL of the key that ferry already read from A lands first.
 * 2. A DEL/UNLINK on another shard A drops the keys whose latest arrival is on B: that is the
 *    MIGRATE's removal of the old copy, which B's RESTORE … REPLACE supersedes in any order. A
 *    DEL/UNLINK on B itself clears the arrival (the key was deleted where it lives now).
 *
 * A key exists on one master at a time except during MIGRATE, and a DEL of a missing key is not
 * propagated, so a DEL on A of a key that arrived on B can only be that removal. Arrivals are kept
 * for `retainMs` (default 10 min) and at most `maxKeys` (default 100k, oldest dropped first).
 * Not covered: keys migrated while the shards' snapshots are taken (each RDB is cut at a different
 * moment) — reshard the source before or after the snapshot phase, not during it.
 */
import type { Command } from "../model.ts";
import { dropRaw } from "../resp/raw.ts";

export interface HandoffShard {
  id: string;
  /** Stream offset handed to the batcher so far (0 before streaming). */
  handedOffset(): number;
  /** Stream offset applied on the target. */
  appliedOffset(): number;
}

export interface SlotHandoffOptions {
  shards: () => HandoffShard[];
  retainMs?: number;
  maxKeys?: number;
  /** Give up waiting for the other shards after this long (default 30 s) and hand on anyway. */
  waitTimeoutMs?: number;
  now?: () => number;
}

const DELETES = new Set(["del", "unlink"]);
const RESTORE_ASKING = "restore-asking";

export class SlotHandoff {
  /** key (latin1) → shard it last arrived on, and when. Insertion order = age. */
  private readonly arrivals = new Map<string, { shard: string; at: number }>();
  private readonly retainMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  readonly counters = { arrivals: 0, droppedDeletes: 0, waits: 0, timeouts: 0 };

  constructor(private readonly opts: SlotHandoffOptions) {
    this.retainMs = opts.retainMs ?? 600_000;
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Rewrites one slice of shard `shard`'s stream by the rules above. `barrier` is set when the
   * slice holds a migrated key: await it (after flushing what was handed before) before handing on.
   */
  inspect(shard: string, commands: Command[]): { commands: Command[]; barrier: boolean } {
    let barrier = false;
    let out: Command[] | null = null;
    commands.forEach((command, i) => {
      const name = command.argv[0]?.toString("latin1").toLowerCase() ?? "";
      let next: Command | null = command;
      if (name === RESTORE_ASKING && command.argv[1]) {
        barrier = true;
        this.arrive(command.argv[1], shard);
        next = { ...command, argv: asRestoreReplace(command.argv) };
        dropRaw(next); // the source's frame bytes no longer match the rewritten argv
      } else if (DELETES.has(name) && this.arrivals.size > 0) {
        const kept = [command.argv[0]!];
        for (const key of command.argv.slice(1)) {
          const id = key.toString("latin1");
          const arrival = this.arrivals.get(id);
          if (arrival && this.fresh(arrival) && arrival.shard !== shard) {
            this.counters.droppedDeletes++;
            continue;
          }
          if (arrival?.shard === shard) this.arrivals.delete(id);
          kept.push(key);
        }
        if (kept.length === 1) next = null;
        else if (kept.length !== command.argv.length) {
          next = { ...command, argv: kept };
          dropRaw(next);
        }
      }
      if (next !== command && out === null) out = commands.slice(0, i);
      if (out !== null && next !== null) out.push(next);
    });
    return { commands: out ?? commands, barrier };
  }

  /** Resolves once every shard other than `shard` applied what it had handed on when called. */
  async barrier(shard: string, pollMs = 5): Promise<void> {
    this.counters.waits++;
    const targets = this.opts
      .shards()
      .filter((s) => s.id !== shard)
      .map((s) => ({ s, offset: s.handedOffset() }));
    const deadline = this.now() + (this.opts.waitTimeoutMs ?? 30_000);
    while (targets.some(({ s, offset }) => s.appliedOffset() < offset)) {
      if (this.now() > deadline) {
        this.counters.timeouts++;
        return;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private arrive(key: Buffer, shard: string): void {
    const id = key.toString("latin1");
    this.arrivals.delete(id);
    this.arrivals.set(id, { shard, at: this.now() });
    this.counters.arrivals++;
    for (const [oldest, arrival] of this.arrivals) {
      if (this.arrivals.size <= this.maxKeys && this.fresh(arrival)) break;
      this.arrivals.delete(oldest);
    }
  }

  private fresh(arrival: { at: number }): boolean {
    return this.now() - arrival.at <= this.retainMs;
  }
}

/** `RESTORE-ASKING key ttl payload [opts]` → `RESTORE key ttl payload [opts] REPLACE`. */
function asRestoreReplace(argv: Buffer[]): Buffer[] {
  const hasReplace = argv.slice(4).some((a) => a.toString("latin1").toUpperCase() === "REPLACE");
  const out = [Buffer.from("RESTORE"), ...argv.slice(1)];
  if (!hasReplace) out.push(Buffer.from("REPLACE"));
  return out;
}

/**
 * The keys named by notifications and not copied since: deduplicated, in first-notified order,
 * bounded. Memory is bounded by `maxKeys` (each entry holds its key bytes once); when a burst of
 * writes exceeds it the set is dropped and the caller rescans — the rescan re-reads every key, so
 * nothing the dropped entries named is lost.
 */
import { type Clock, systemClock } from "../../ports.ts";

export interface DirtyKey {
  db: number;
  key: Buffer;
  /** When the key was first notified since its last copy (ms). */
  since: number;
}

export class DirtyKeySet {
  /** Map iteration order = insertion order: re-notifying a dirty key keeps its place (and age). */
  private readonly entries = new Map<string, DirtyKey>();
  private overflowCount = 0;
  private readonly clock: Clock;

  constructor(
    readonly maxKeys: number,
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  /** Records a change; returns false when the set overflowed (it is then empty: rescan). */
  add(db: number, key: Buffer): boolean {
    const id = `${db}:${key.toString("latin1")}`;
    if (this.entries.has(id)) return true;
    if (this.entries.size >= this.maxKeys) {
      this.entries.clear();
      this.overflowCount++;
      return false;
    }
    this.entries.set(id, { db, key, since: this.clock.now() });
    return true;
  }

  /** Removes and returns up to `max` of the oldest entries. */
  take(max: number): DirtyKey[] {
    const out: DirtyKey[] = [];
    for (const [id, entry] of this.entries) {
      if (out.length >= max) break;
      out.push(entry);
      this.entries.delete(id);
    }
    return out;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Times the bound was hit (each one cost a rescan). */
  get overflows(): number {
    return this.overflowCount;
  }

  /** Age of the oldest entry in ms (0 when empty): the scan reader's lag. */
  oldestAgeMs(): number {
    const first = this.entries.values().next();
    return first.done ? 0 : Math.max(0, this.clock.now() - first.value.since);
  }
}

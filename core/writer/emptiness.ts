/**
 * DESIGN.md "Snapshot restarts": a snapshot interrupted half-way cannot be resumed, and keys the
 * source deleted meanwhile would stay on the target. So before its first write a job records
 * whether the target was empty; a later re-snapshot may then flush the mapped dbs (everything in
 * them was written by this job), and otherwise must warn that stale keys are possible.
 *
 * The record lives next to the markers (`<prefix><job>:@target-empty`, "1" or "0"), written with
 * SET NX: the first answer sticks, a restart must not re-decide on a target it already wrote to.
 */

type Call = (argv: Buffer[]) => Promise<unknown>;

const b = (s: string | number): Buffer => Buffer.from(String(s));

/** Below this many keys in the marker db, a SCAN tells markers of other jobs from data. */
const SMALL_DB = 1000;

export class TargetEmptiness {
  constructor(
    private readonly call: Call,
    private readonly prefix: string,
    private readonly markerDb: number,
  ) {}

  recordKey(job: string): string {
    return `${this.prefix}${job}:@target-empty`;
  }

  /**
   * Records (once) whether `dbs` hold no data besides ferry's own keys, and returns the recorded
   * answer — the one from the job's first call, even if the target has been written since.
   */
  async record(job: string, dbs: readonly number[]): Promise<boolean> {
    const known = await this.wasEmpty(job);
    if (known !== null) return known;
    const empty = await this.isEmpty(dbs);
    await this.call([b("SELECT"), b(this.markerDb)]);
    await this.call([b("SET"), b(this.recordKey(job)), b(empty ? 1 : 0), b("NX")]);
    return (await this.wasEmpty(job)) ?? empty;
  }

  /** The recorded answer, or null when the job never recorded one. */
  async wasEmpty(job: string): Promise<boolean | null> {
    const [, value] = await Promise.all([
      this.call([b("SELECT"), b(this.markerDb)]),
      this.call([b("GET"), b(this.recordKey(job))]),
    ]);
    return value === null ? null : String(value) === "1";
  }

  /** Do `dbs` hold no key besides ferry's (prefix) keys? */
  async isEmpty(dbs: readonly number[]): Promise<boolean> {
    for (const db of dbs) {
      const [, size] = await Promise.all([this.call([b("SELECT"), b(db)]), this.call([b("DBSIZE")])]);
      const count = Number(size);
      if (count === 0) continue;
      if (db !== this.markerDb || count > SMALL_DB) return false;
      if ((await this.nonFerryKeys(db, 1)).length > 0) return false;
    }
    return true;
  }

  /**
   * Removes every key of `dbs` except ferry's own (markers, records): FLUSHDB where no ferry key
   * lives, UNLINK of the scanned data keys in the marker db.
   */
  async flush(dbs: readonly number[]): Promise<void> {
    for (const db of dbs) {
      if (db !== this.markerDb) {
        await Promise.all([this.call([b("SELECT"), b(db)]), this.call([b("FLUSHDB")])]);
        continue;
      }
      for (;;) {
        const keys = await this.nonFerryKeys(db, 1000);
        if (keys.length === 0) break;
        await Promise.all([this.call([b("SELECT"), b(db)]), this.call([b("UNLINK"), ...keys])]);
      }
    }
  }

  private async nonFerryKeys(db: number, want: number): Promise<Buffer[]> {
    const found: Buffer[] = [];
    const prefix = Buffer.from(this.prefix);
    let cursor = "0";
    do {
      const [, reply] = await Promise.all([
        this.call([b("SELECT"), b(db)]),
        this.call([b("SCAN"), b(cursor), b("COUNT"), b(1000)]),
      ]);
      const [next, keys] = reply as [Buffer, Buffer[]];
      cursor = next.toString();
      for (const key of keys) if (!key.subarray(0, prefix.length).equals(prefix)) found.push(key);
    } while (cursor !== "0" && found.length < want);
    return found;
  }
}

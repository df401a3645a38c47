import type { AppliedOffset, OffsetStore } from "../../ports.ts";

/** OffsetStore of the embedded default: per process, forward-only, like the DynamoDB one. */
export class MemoryOffsetStore implements OffsetStore {
  private readonly offsets = new Map<string, AppliedOffset>();

  async get(job: string, shard: string): Promise<AppliedOffset | null> {
    const value = this.offsets.get(key(job, shard));
    return value ? { ...value } : null;
  }

  async advance(job: string, shard: string, value: AppliedOffset): Promise<boolean> {
    const current = this.offsets.get(key(job, shard));
    if (current && current.offset >= value.offset) return false;
    this.offsets.set(key(job, shard), { replid: value.replid, offset: value.offset, db: value.db });
    return true;
  }

  async reset(job: string, shard: string): Promise<void> {
    this.offsets.delete(key(job, shard));
  }
}

// JSON keeps the pair unambiguous whatever characters job and shard ids contain.
const key = (job: string, shard: string): string => JSON.stringify([job, shard]);

/**
 * The OffsetStore contract (core/ports.ts), run against every implementation: per (job, shard),
 * forward-only, a backward or equal advance is ignored (returns false), reset forgets.
 */
import { describe, expect, it } from "vitest";
import type { OffsetStore } from "../../core/ports.ts";

export function runOffsetStoreContract(
  name: string,
  makeStore: () => Promise<OffsetStore> | OffsetStore,
): void {
  describe(`OffsetStore contract: ${name}`, () => {
    const replid = "8de9a5c7d1f1e2b3c4d5e6f708192a3b4c5d6e7f";

    it("has nothing for an unknown shard", async () => {
      const store = await makeStore();
      expect(await store.get("job-a", "standalone")).toBeNull();
    });

    it("stores the first offset and only ever moves forward", async () => {
      const store = await makeStore();
      expect(await store.advance("job-a", "s1", { replid, offset: 100, db: 0 })).toBe(true);
      expect(await store.advance("job-a", "s1", { replid, offset: 250, db: 3 })).toBe(true);
      expect(await store.get("job-a", "s1")).toEqual({ replid, offset: 250, db: 3 });
      // A late retry of an older apply must not move the offset back.
      expect(await store.advance("job-a", "s1", { replid, offset: 120, db: 0 })).toBe(false);
      expect(await store.advance("job-a", "s1", { replid, offset: 250, db: 0 })).toBe(false);
      expect(await store.get("job-a", "s1")).toEqual({ replid, offset: 250, db: 3 });
    });

    it("offsets above 2^32 keep full precision", async () => {
      const store = await makeStore();
      const big = 2 ** 40 + 7;
      expect(await store.advance("job-a", "s-big", { replid, offset: big, db: 1 })).toBe(true);
      expect(await store.get("job-a", "s-big")).toEqual({ replid, offset: big, db: 1 });
      expect(await store.advance("job-a", "s-big", { replid, offset: big + 1, db: 1 })).toBe(true);
      expect((await store.get("job-a", "s-big"))?.offset).toBe(big + 1);
    });

    it("keeps shards and jobs apart, even with ids that could collide when concatenated", async () => {
      const store = await makeStore();
      await store.advance("job:x", "y", { replid, offset: 10, db: 0 });
      await store.advance("job", "x:y", { replid, offset: 20, db: 0 });
      await store.advance("job", "other", { replid, offset: 30, db: 0 });
      expect((await store.get("job:x", "y"))?.offset).toBe(10);
      expect((await store.get("job", "x:y"))?.offset).toBe(20);
      expect((await store.get("job", "other"))?.offset).toBe(30);
    });

    it("reset forgets one shard, after which a lower offset (new replid) is accepted", async () => {
      const store = await makeStore();
      await store.advance("job-r", "s1", { replid, offset: 5000, db: 0 });
      await store.advance("job-r", "s2", { replid, offset: 7000, db: 0 });
      await store.reset("job-r", "s1");
      await store.reset("job-r", "never-seen");
      expect(await store.get("job-r", "s1")).toBeNull();
      expect((await store.get("job-r", "s2"))?.offset).toBe(7000);
      const fresh = "f".repeat(40);
      expect(await store.advance("job-r", "s1", { replid: fresh, offset: 10, db: 0 })).toBe(true);
      expect(await store.get("job-r", "s1")).toEqual({ replid: fresh, offset: 10, db: 0 });
    });

    it("concurrent advances settle on the highest offset", async () => {
      const store = await makeStore();
      const offsets = Array.from({ length: 20 }, (_, i) => ((i * 7) % 20) * 100 + 1);
      await Promise.all(offsets.map((offset) => store.advance("job-c", "s1", { replid, offset, db: 0 })));
      expect((await store.get("job-c", "s1"))?.offset).toBe(Math.max(...offsets));
    });
  });
}

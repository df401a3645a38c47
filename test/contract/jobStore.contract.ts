/**
 * The JobStore contract (core/ports.ts): create is exclusive, update is conditional on the version
 * (ConflictError otherwise, never a raw backend error), list filters and pages with a cursor.
 */
import { describe, expect, it } from "vitest";
import { ConflictError } from "../../core/errors.ts";
import type { JobRecord, JobState, JobStore } from "../../core/ports.ts";

interface Spec {
  source: string;
  target: string;
}
interface Status {
  applied: number;
}

export function job(
  id: string,
  state: JobState = "pending",
  labels: Record<string, string> = {},
): JobRecord<Spec, Status> {
  const now = new Date("2026-01-01T00:00:00Z").toISOString();
  return {
    id,
    state,
    version: 1,
    spec: { source: "redis://source:6379", target: "redis://target:6379" },
    status: { applied: 0 },
    createdAt: now,
    updatedAt: now,
    labels,
  };
}

export function runJobStoreContract(
  name: string,
  makeStore: () => Promise<JobStore<Spec, Status>> | JobStore<Spec, Status>,
): void {
  describe(`JobStore contract: ${name}`, () => {
    it("creates, reads back what it stored, and refuses a duplicate id", async () => {
      const store = await makeStore();
      const record = job("j1", "pending", { team: "payments" });
      await store.create(record);
      expect(await store.get("j1")).toEqual(record);
      expect(await store.get("missing")).toBeNull();
      await expect(store.create(job("j1"))).rejects.toBeInstanceOf(ConflictError);
    });

    it("updates only from the expected version and bumps it", async () => {
      const store = await makeStore();
      await store.create(job("j2"));
      const next = { ...job("j2", "snapshot"), status: { applied: 42 } };
      const stored = await store.update(next, 1);
      expect(stored.version).toBe(2);
      expect(stored.state).toBe("snapshot");
      expect(await store.get("j2")).toEqual(stored);

      // A writer that read version 1 lost the race: ConflictError, and nothing changes.
      const stale = store.update({ ...job("j2", "failed") }, 1);
      await expect(stale).rejects.toBeInstanceOf(ConflictError);
      await expect(store.update({ ...job("j2", "failed") }, 1)).rejects.toThrow(/version 2/);
      expect((await store.get("j2"))?.state).toBe("snapshot");
    });

    it("updating a job that does not exist is a ConflictError", async () => {
      const store = await makeStore();
      await expect(store.update(job("ghost"), 1)).rejects.toBeInstanceOf(ConflictError);
      expect(await store.get("ghost")).toBeNull();
    });

    it("only one of two concurrent updates from the same version wins", async () => {
      const store = await makeStore();
      await store.create(job("j3"));
      const results = await Promise.allSettled([
        store.update(job("j3", "streaming"), 1),
        store.update(job("j3", "paused"), 1),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
      const winner = (won[0] as PromiseFulfilledResult<JobRecord<Spec, Status>>).value;
      expect(await store.get("j3")).toEqual(winner);
    });

    it("deletes (idempotently)", async () => {
      const store = await makeStore();
      await store.create(job("j4"));
      await store.delete("j4");
      await store.delete("j4");
      expect(await store.get("j4")).toBeNull();
      await store.create(job("j4"));
      expect((await store.get("j4"))?.version).toBe(1);
    });

    it("lists every job exactly once across pages, and filters by state and label", async () => {
      const store = await makeStore();
      const ids = Array.from({ length: 13 }, (_, i) => `list-${String(i).padStart(2, "0")}`);
      for (const [i, id] of ids.entries()) {
        await store.create(
          job(id, i % 3 === 0 ? "streaming" : "pending", { env: i % 2 === 0 ? "prod" : "dev" }),
        );
      }
      const all = await collect(store, {});
      expect(all.map((j) => j.id).sort()).toEqual(ids);

      const streaming = await collect(store, { state: "streaming" });
      expect(streaming.map((j) => j.id).sort()).toEqual(ids.filter((_, i) => i % 3 === 0));

      const prod = await collect(store, { label: { key: "env", value: "prod" } });
      expect(prod.map((j) => j.id).sort()).toEqual(ids.filter((_, i) => i % 2 === 0));

      const both = await collect(store, { state: "streaming", label: { key: "env", value: "prod" } });
      expect(both.map((j) => j.id).sort()).toEqual(ids.filter((_, i) => i % 6 === 0));
    });
  });
}

async function collect(
  store: JobStore<Spec, Status>,
  filter: { state?: JobState; label?: { key: string; value: string } },
): Promise<JobRecord<Spec, Status>[]> {
  const out: JobRecord<Spec, Status>[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const res = await store.list({ ...filter, limit: 4, ...(cursor === undefined ? {} : { cursor }) });
    expect(res.jobs.length).toBeLessThanOrEqual(4);
    out.push(...res.jobs);
    if (res.cursor === undefined) return out;
    cursor = res.cursor;
  }
  throw new Error("list never ended");
}

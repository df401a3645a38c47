import type { JobListQuery, JobRecord, JobStore } from "../../ports.ts";
import { alreadyExists, pageJobs, versionConflict } from "../jobQuery.ts";

/**
 * JobStore of the embedded default. Records are cloned in and out so a caller mutating a record it
 * holds cannot bypass the version check.
 */
export class MemoryJobStore<Spec = unknown, Status = unknown> implements JobStore<Spec, Status> {
  private readonly jobs = new Map<string, JobRecord<Spec, Status>>();

  async create(job: JobRecord<Spec, Status>): Promise<void> {
    if (this.jobs.has(job.id)) throw alreadyExists(job.id);
    this.jobs.set(job.id, structuredClone(job));
  }

  async get(id: string): Promise<JobRecord<Spec, Status> | null> {
    const job = this.jobs.get(id);
    return job ? structuredClone(job) : null;
  }

  async list(query: JobListQuery): Promise<{ jobs: JobRecord<Spec, Status>[]; cursor?: string }> {
    const page = pageJobs(this.jobs.values(), query);
    return { ...page, jobs: page.jobs.map((j) => structuredClone(j)) };
  }

  async update(next: JobRecord<Spec, Status>, expectedVersion: number): Promise<JobRecord<Spec, Status>> {
    const current = this.jobs.get(next.id);
    if (!current || current.version !== expectedVersion) {
      throw versionConflict(next.id, expectedVersion, current?.version ?? null);
    }
    const stored = { ...structuredClone(next), version: expectedVersion + 1 };
    this.jobs.set(next.id, stored);
    return structuredClone(stored);
  }

  async delete(id: string): Promise<void> {
    this.jobs.delete(id);
  }
}

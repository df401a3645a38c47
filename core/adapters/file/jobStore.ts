import { join } from "node:path";
import type { JobListQuery, JobRecord, JobStore } from "../../ports.ts";
import { alreadyExists, pageJobs, versionConflict } from "../jobQuery.ts";
import { JsonFile } from "./jsonFile.ts";

type Doc<Spec, Status> = Record<string, JobRecord<Spec, Status>>;

/**
 * Jobs in `<dir>/jobs.json` (spec and status must be JSON-serialisable). Versioned updates behave
 * exactly like the DynamoDB store: a stale version throws ConflictError.
 */
export class FileJobStore<Spec = unknown, Status = unknown> implements JobStore<Spec, Status> {
  private readonly file: JsonFile<Doc<Spec, Status>>;

  constructor(dir: string) {
    this.file = new JsonFile<Doc<Spec, Status>>(join(dir, "jobs.json"), () => ({}));
  }

  create(job: JobRecord<Spec, Status>): Promise<void> {
    return this.file.transact((doc) => {
      if (Object.hasOwn(doc, job.id)) throw alreadyExists(job.id);
      doc[job.id] = job;
      return { result: undefined, write: doc };
    });
  }

  get(id: string): Promise<JobRecord<Spec, Status> | null> {
    return this.file.transact((doc) => ({ result: Object.hasOwn(doc, id) ? doc[id]! : null }));
  }

  list(query: JobListQuery): Promise<{ jobs: JobRecord<Spec, Status>[]; cursor?: string }> {
    return this.file.transact((doc) => ({ result: pageJobs(Object.values(doc), query) }));
  }

  update(next: JobRecord<Spec, Status>, expectedVersion: number): Promise<JobRecord<Spec, Status>> {
    return this.file.transact((doc) => {
      const current = Object.hasOwn(doc, next.id) ? doc[next.id] : undefined;
      if (!current || current.version !== expectedVersion) {
        throw versionConflict(next.id, expectedVersion, current?.version ?? null);
      }
      const stored = { ...next, version: expectedVersion + 1 };
      doc[next.id] = stored;
      return { result: structuredClone(stored), write: doc };
    });
  }

  delete(id: string): Promise<void> {
    return this.file.transact((doc) => {
      if (!Object.hasOwn(doc, id)) return { result: undefined };
      delete doc[id];
      return { result: undefined, write: doc };
    });
  }
}

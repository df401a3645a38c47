/**
 * Filtering and paging of job lists shared by the memory and file JobStores: jobs ordered by id, the
 * cursor is the last id returned (opaque to callers), so paging is stable while jobs are added.
 */
import { BadInputError, ConflictError } from "../errors.ts";
import type { JobListQuery, JobRecord } from "../ports.ts";

export function matchesQuery(job: JobRecord, query: Pick<JobListQuery, "state" | "label">): boolean {
  if (query.state !== undefined && job.state !== query.state) return false;
  if (query.label !== undefined && job.labels[query.label.key] !== query.label.value) return false;
  return true;
}

export function encodeCursor(id: string): string {
  return Buffer.from(id).toString("base64url");
}

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, "base64url").toString();
  if (id.length === 0)
    throw new BadInputError(`invalid cursor "${cursor}"`, "pass the cursor returned by the last page");
  return id;
}

export function pageJobs<J extends JobRecord>(
  all: Iterable<J>,
  query: JobListQuery,
): { jobs: J[]; cursor?: string } {
  if (!Number.isInteger(query.limit) || query.limit < 1) {
    throw new BadInputError(`invalid list limit ${query.limit}`, "pass a limit of 1 or more");
  }
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const sorted = [...all]
    .filter((j) => matchesQuery(j, query))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const start = after === undefined ? 0 : sorted.findIndex((j) => j.id > after);
  const page = start < 0 ? [] : sorted.slice(start, start + query.limit);
  const more = start >= 0 && start + query.limit < sorted.length;
  const last = page.at(-1);
  return more && last ? { jobs: page, cursor: encodeCursor(last.id) } : { jobs: page };
}

export function alreadyExists(id: string): ConflictError {
  return new ConflictError(`job ${id} already exists`, "choose another job id or update the existing job");
}

export function versionConflict(id: string, expected: number, actual: number | null): ConflictError {
  return new ConflictError(
    actual === null
      ? `job ${id} does not exist (expected version ${expected})`
      : `job ${id} is at version ${actual}, not ${expected}: it was changed concurrently`,
    "reload the job and apply the change again",
  );
}

/** Derived numbers of a job view, shared by the list and the job page. */
import type { Endpoint } from "../../../core/jobs/spec.ts";
import type { JobView } from "../../../core/jobs/view.ts";

export type { JobView };
export type Shard = JobView["progress"]["shards"][number];

export function endpointLabel(e: Endpoint): string {
  if (typeof e === "string") return e;
  const [kind, value] = Object.entries(e.secret)[0] ?? ["secret", "?"];
  return `${kind}:${String(value)}`;
}

export interface Totals {
  lagBytes: number;
  /** The slowest shard decides when a cutover can happen. */
  lagSeconds: number;
  opsPerSecond: number;
  snapshotDone: number;
  /** null while some shard does not know its RDB size yet (diskless transfer). */
  snapshotTotal: number | null;
  keysDone: number;
}

export function totals(shards: readonly Shard[], keysDone = 0): Totals {
  let known = shards.length > 0;
  const t: Totals = {
    lagBytes: 0,
    lagSeconds: 0,
    opsPerSecond: 0,
    snapshotDone: 0,
    snapshotTotal: 0,
    keysDone: 0,
  };
  for (const s of shards) {
    t.lagBytes += s.lagBytes;
    t.lagSeconds = Math.max(t.lagSeconds, s.lagSeconds);
    t.opsPerSecond += s.opsPerSecond;
    t.snapshotDone += s.snapshotBytesDone;
    t.keysDone += s.keysDone;
    if (s.snapshotBytesTotal === null) known = false;
    else t.snapshotTotal = (t.snapshotTotal ?? 0) + s.snapshotBytesTotal;
  }
  if (!known) t.snapshotTotal = null;
  t.keysDone = Math.max(t.keysDone, keysDone);
  return t;
}

/** The job states, in lifecycle order (the filter of the job list). */
export { JOB_STATES as STATES } from "../../../core/jobs/stateMachine.ts";

/**
 * SQS FIFO ids. MessageGroupId and MessageDeduplicationId: at most 128 characters from
 * alphanumerics and ASCII punctuation (SQS API reference). Job and shard ids may be longer or hold
 * other characters (a cluster node address with IPv6 brackets is fine, a space is not), so such ids
 * are replaced by a SHA-256 hex digest (64 characters) — still stable for the same input.
 */
import { createHash } from "node:crypto";
import type { Batch } from "../../model.ts";

const MAX_ID = 128;
const ALLOWED = /^[\x21-\x7e]+$/;

function safeId(raw: string): string {
  if (raw.length <= MAX_ID && ALLOWED.test(raw)) return raw;
  return createHash("sha256").update(raw).digest("hex");
}

/** One group per (job, shard): SQS orders and serialises delivery within it, parallel across groups. */
export function messageGroupId(job: string, shard: string): string {
  return safeId(`${job}:${shard}`);
}

/**
 * Same batch part sent twice within SQS's 5-minute window (a replicator retrying a send whose answer
 * it lost) is stored once. `last` is part of the id: after a restart the replicator may re-batch from
 * the same first offset with more commands, and that batch must not be dropped as a duplicate.
 * `replid` and the snapshot offset separate snapshots whose seq numbers restart at 1; `attempt`
 * separates two snapshots at the SAME offset (a re-snapshot of an idle source within 5 minutes,
 * after the target was flushed): without it SQS would drop the second one's batches as duplicates.
 */
export function messageDeduplicationId(
  batch: Pick<Batch, "job" | "shard" | "kind" | "replid" | "snapshotOffset">,
  first: number,
  last: number,
  attempt = "",
): string {
  const snapshot =
    batch.kind === "snapshot" ? `@${batch.snapshotOffset ?? 0}${attempt ? `#${attempt}` : ""}` : "";
  return safeId(`${batch.job}:${batch.shard}:${batch.kind}:${batch.replid}${snapshot}:${first}-${last}`);
}

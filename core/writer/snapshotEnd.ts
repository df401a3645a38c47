import type { Batch } from "../model.ts";

/**
 * The end of a snapshot as a batch: an empty stream batch at `offset`. Applying it moves the shard
 * marker to the stream form (so stream commands after `offset` follow) through the writer's normal
 * guarded path, which never moves a marker backwards.
 */
export function snapshotEndBatch(
  job: string,
  shard: string,
  replid: string,
  offset: number,
  db: number,
): Batch {
  return {
    job,
    shard,
    replid,
    kind: "stream",
    first: offset,
    last: offset,
    commands: [],
    bytes: 0,
    endDb: db,
  };
}

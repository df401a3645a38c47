/**
 * Barrier steps of a cluster batch (see clusterPlan.ts): they run after everything before them in
 * the batch is applied, and the caller moves the shard marker past them when they succeed.
 */

import { slotOf } from "../cluster/slots.ts";
import type { SlotTable } from "../cluster/slotTable.ts";
import type { Batch } from "../model.ts";
import { commandName } from "./clusterKeys.ts";
import { type MarkerCache, type PartResult, slotMarkerKey } from "./clusterPart.ts";
import type { Entry, Step } from "./clusterPlan.ts";
import { type NodePool, onNode, onSlot, type RouteOptions, withAsking } from "./clusterRoute.ts";
import { decodeMarker, encodeMarker, isApplied } from "./marker.ts";
import type { MarkerState } from "./types.ts";

export interface BarrierContext {
  table: SlotTable;
  pool: NodePool;
  route: RouteOptions;
  prefix: string;
  markers: MarkerCache;
  applySlot(batch: Batch, slot: number, entries: Entry[], floor: MarkerState | null): Promise<PartResult>;
}

/**
 * FLUSHALL/FLUSHDB/FUNCTION/SCRIPT on every master. A flush also wipes the markers on that node,
 * so the node holding the shard marker rewrites it in the same transaction. Pinned to each node
 * (not routed by slot): a MOVED must not send one master's broadcast to another.
 */
export async function broadcast(
  ctx: BarrierContext,
  entry: Entry,
  shardKey: string,
  floor: MarkerState | null,
): Promise<number> {
  const name = commandName(entry.argv).toUpperCase();
  ctx.route.onWarn(`${name} from the source is applied to every master of the cluster target`);
  ctx.markers.clear(); // a flush deletes slot markers behind the cache's back
  await ctx.table.refresh();
  const shardOwner = ctx.table.nodeFor(slotOf(shardKey));
  await Promise.all(
    ctx.table.masters().map((addr) =>
      onNode(ctx.pool, addr, ctx.route, async (client) => {
        const queued = [
          client.call("MULTI"),
          client.callBuffer(String(entry.argv[0]), ...entry.argv.slice(1)),
        ];
        if (addr === shardOwner && floor) queued.push(client.set(shardKey, encodeMarker(floor)));
        const exec = client.call("EXEC");
        const settled = await Promise.allSettled(queued);
        const refused = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
        const result = await exec.catch((err: unknown) => {
          throw refused ? refused.reason : err;
        });
        const error = (result as unknown[]).find((r) => r instanceof Error);
        if (error) ctx.route.onWarn(`${name} on ${addr}: ${(error as Error).message}`);
      }),
    ),
  );
  return 1;
}

/** Emulated cross-slot two-key command: destination write from a read of the source, then source write. */
export async function emulateMove(
  ctx: BarrierContext,
  batch: Batch,
  step: Extract<Step, { kind: "move" }>,
  floor: MarkerState | null,
): Promise<number> {
  const { entry, rule, src, dst } = step;
  const dstKey = slotMarkerKey(ctx.prefix, batch.job, batch.shard, step.dstSlot);
  let applied = 0;
  const dstDone = await onSlot(ctx.table, ctx.pool, step.dstSlot, ctx.route, (client, asking) =>
    withAsking(client, asking, () => client.getBuffer(dstKey)),
  );
  if (!isApplied(decodeMarker(dstDone as Buffer | null), entry.pos)) {
    const replies = await onSlot(ctx.table, ctx.pool, step.srcSlot, ctx.route, (client, asking) =>
      Promise.all(
        rule
          .read(src, entry.argv)
          .map(([name, ...args]) =>
            withAsking(client, asking, () => client.callBuffer(String(name), ...args)),
          ),
      ),
    );
    const argv = rule.dst(dst, replies, entry.argv);
    if (argv) applied = (await ctx.applySlot(batch, step.dstSlot, [{ argv, pos: entry.pos }], floor)).applied;
    else
      ctx.route.onWarn(
        `${commandName(entry.argv).toUpperCase()} at offset ${entry.pos.offset}: source key missing on the target, nothing to move`,
      );
  }
  const srcArgv = rule.src(src, entry.argv);
  if (srcArgv)
    applied += (await ctx.applySlot(batch, step.srcSlot, [{ argv: srcArgv, pos: entry.pos }], floor)).applied;
  return applied > 0 ? 1 : 0;
}

/**
 * Source side of a cluster migration: the masters to replicate (one ReplicaSession per master) and
 * a poller that notices failovers. After a failover the promoted replica keeps the old master's
 * replication history (psync2: its replid2 is the old replid), so the caller reconnects to the new
 * master and sends `PSYNC <old replid> <applied offset + 1>`, which usually answers +CONTINUE.
 */
import type { RedisEndpoint } from "../replication/types.ts";
import { nodeAddress } from "./connect.ts";
import { type ClusterShard, discoverShards } from "./topology.ts";

/** Every master that serves slots, with its slot ranges and replicas, read from `seed`. */
export function discoverSourceMasters(seed: RedisEndpoint): Promise<ClusterShard[]> {
  return discoverShards(seed, [seed]);
}

export interface Failover {
  /** The master that served these slots before (now failed or demoted). */
  from: ClusterShard;
  /** The master serving them now (usually a promoted replica of `from`). */
  to: ClusterShard;
  /** Whether `to` was listed as a replica of `from` (psync2 continuation is then expected). */
  promotedReplica: boolean;
}

export interface TopologyChange {
  previous: ClusterShard[];
  current: ClusterShard[];
  failovers: Failover[];
  /** Masters (by id) that appeared or vanished without taking over another's slots: resharding. */
  added: ClusterShard[];
  removed: ClusterShard[];
}

/** Compare two topology snapshots. Pure, so the rules are testable without a cluster. */
export function diffTopology(previous: ClusterShard[], current: ClusterShard[]): TopologyChange | null {
  const currentById = new Map(current.map((s) => [s.id, s]));
  const previousById = new Map(previous.map((s) => [s.id, s]));
  const failovers: Failover[] = [];
  const removed: ClusterShard[] = [];
  for (const old of previous) {
    if (currentById.has(old.id)) continue;
    const successor = current.find((s) => !previousById.has(s.id) && overlaps(s.slots, old.slots));
    if (successor) {
      failovers.push({
        from: old,
        to: successor,
        promotedReplica: old.replicas.some((r) => r.id === successor.id),
      });
    } else removed.push(old);
  }
  const successors = new Set(failovers.map((f) => f.to.id));
  const added = current.filter((s) => !previousById.has(s.id) && !successors.has(s.id));
  const moved = current.some((s) => {
    const old = previousById.get(s.id);
    return old !== undefined && (rangesKey(old) !== rangesKey(s) || nodeAddress(old) !== nodeAddress(s));
  });
  if (failovers.length === 0 && added.length === 0 && removed.length === 0 && !moved) return null;
  return { previous, current, failovers, added, removed };
}

export interface TopologyWatch {
  stop(): void;
}

/**
 * Poll the source topology every `intervalMs` (default 1000) and call `onChange` when masters or
 * their slots change. Poll errors (a seed that is the failed master) go to `onError` and the next
 * poll tries every node seen so far.
 */
export function watchTopology(
  seed: RedisEndpoint,
  onChange: (change: TopologyChange) => void | Promise<void>,
  opts: { intervalMs?: number; initial?: ClusterShard[]; onError?: (err: unknown) => void } = {},
): TopologyWatch {
  let last: ClusterShard[] | null = opts.initial ?? null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const poll = async (): Promise<void> => {
    const candidates = [seed, ...(last ?? []).flatMap((s) => [s, ...s.replicas])];
    try {
      const current = await discoverShards(seed, candidates);
      if (stopped) return;
      // Mid-failover the failed master is gone and its replica not yet promoted: its slots have no
      // master. Wait for coverage to come back, so the change reads as one failover (old → new)
      // rather than a removal followed by an unrelated addition.
      if (last && slotCount(current) < slotCount(last)) {
        timer = setTimeout(() => void poll(), opts.intervalMs ?? 1000);
        return;
      }
      const change = last ? diffTopology(last, current) : null;
      last = current;
      if (change) await onChange(change);
    } catch (err) {
      opts.onError?.(err);
    }
    if (!stopped) timer = setTimeout(() => void poll(), opts.intervalMs ?? 1000);
  };
  void poll();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

function slotCount(shards: ClusterShard[]): number {
  return shards.reduce((n, s) => n + s.slots.reduce((m, [from, to]) => m + to - from + 1, 0), 0);
}

function overlaps(a: Array<[number, number]>, b: Array<[number, number]>): boolean {
  return a.some(([af, at]) => b.some(([bf, bt]) => af <= bt && bf <= at));
}

function rangesKey(shard: ClusterShard): string {
  return shard.slots.map(([f, t]) => `${f}-${t}`).join(",");
}

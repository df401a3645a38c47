/**
 * Slot → owning master, as the writer currently believes it. Refreshed on demand (a MOVED reply, a
 * node that stopped answering) and periodically; single-flight so a burst of MOVED replies during
 * a resharding triggers one CLUSTER SHARDS, not hundreds. `MOVED <slot> <addr>` updates one slot
 * at once without waiting for the refresh, as the cluster spec advises clients to do.
 */
import type { RedisEndpoint } from "../replication/types.ts";
import { type NodeAddr, nodeAddress, parseNodeAddress } from "./connect.ts";
import { SLOT_COUNT } from "./slots.ts";
import { type ClusterShard, discoverShards } from "./topology.ts";

export class SlotTable {
  private owners: Array<string | undefined> = new Array(SLOT_COUNT);
  private shardList: ClusterShard[] = [];
  private known = new Set<string>();
  private inflight: Promise<ClusterShard[]> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly base: RedisEndpoint,
    seeds: ReadonlyArray<NodeAddr>,
  ) {
    for (const seed of seeds) this.known.add(nodeAddress(seed));
  }

  get shards(): readonly ClusterShard[] {
    return this.shardList;
  }

  /** Address (`host:port`) of the master serving `slot`, if known. */
  nodeFor(slot: number): string | undefined {
    return this.owners[slot];
  }

  /** Distinct addresses of every master that serves at least one slot. */
  masters(): string[] {
    return this.shardList.map((s) => nodeAddress(s));
  }

  moved(slot: number, addr: string): void {
    this.owners[slot] = addr;
    this.known.add(addr);
  }

  refresh(): Promise<ClusterShard[]> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Refresh every `intervalMs` in the background (errors are left to the next on-demand refresh). */
  startPeriodic(intervalMs: number): void {
    this.stopPeriodic();
    this.timer = setInterval(() => void this.refresh().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  stopPeriodic(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async load(): Promise<ClusterShard[]> {
    // Current masters first: the seeds may be the very nodes that failed.
    const candidates = [...new Set([...this.masters(), ...this.known])].map(parseNodeAddress);
    const shards = await discoverShards(this.base, candidates);
    const owners = new Array<string | undefined>(SLOT_COUNT);
    for (const shard of shards) {
      const addr = nodeAddress(shard);
      this.known.add(addr);
      for (const replica of shard.replicas) this.known.add(nodeAddress(replica));
      for (const [from, to] of shard.slots) for (let s = from; s <= to; s++) owners[s] = addr;
    }
    this.owners = owners;
    this.shardList = shards;
    return shards;
  }
}

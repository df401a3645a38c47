/**
 * One `master_repl_offset` poller per source shard (lag = what the master has written minus what
 * the target holds), on its own long-lived connection; re-pointed at the promoted master after a
 * failover (psync2 keeps the offsets comparable).
 */
import type { Redis } from "ioredis";
import { startSourceOffsetPoller } from "../pipeline/lag.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { connectLagClient } from "./syncEndpoints.ts";

interface Poller {
  client: Redis;
  poller: { stop(): void; poll(): Promise<void> };
}

export class SourceOffsetPollers {
  private readonly pollers: Poller[] = [];

  constructor(private readonly onOffset: (shardIndex: number, offset: number) => void) {}

  async start(endpoints: RedisEndpoint[]): Promise<void> {
    for (const [i, endpoint] of endpoints.entries()) this.pollers.push(await this.open(i, endpoint));
  }

  /** Polls every source now (what "caught up" is measured against). */
  async pollAll(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.poller.poll()));
  }

  async repoint(i: number, endpoint: RedisEndpoint): Promise<void> {
    this.close(this.pollers[i]);
    this.pollers[i] = await this.open(i, endpoint);
  }

  stop(): void {
    for (const p of this.pollers) this.close(p);
  }

  private async open(i: number, endpoint: RedisEndpoint): Promise<Poller> {
    const client = await connectLagClient(endpoint);
    const poller = startSourceOffsetPoller({
      client,
      onOffset: (offset) => this.onOffset(i, offset),
      onError: () => {},
    });
    return { client, poller };
  }

  private close(p: Poller | undefined): void {
    p?.poller.stop();
    p?.client.disconnect();
  }
}

/**
 * One raw RESP connection (TxConnection) per cluster node, for the writer's data path: the script
 * parts of a batch are encoded into one buffer per node and written at once (clusterBatch.ts).
 * Markers, redirects, retries and barriers stay on the ioredis connections of NodePool.
 *
 * Why a second connection per node: ioredis costs a Command object, a promise and a socket write
 * per command; with ~one part per key during a snapshot that was most of ferry's CPU for a cluster
 * target. A TxConnection settles a whole write's replies in order from one decoder pass.
 */

import { parseNodeAddress } from "../cluster/connect.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { TxConnection } from "./txConnection.ts";

export class WirePool {
  private readonly connections = new Map<string, TxConnection>();

  constructor(private readonly base: RedisEndpoint) {}

  /** The node's connection (opened on first use; after a lost link the next write reconnects). */
  get(addr: string): TxConnection {
    let connection = this.connections.get(addr);
    if (!connection) {
      const { host, port } = parseNodeAddress(addr);
      connection = new TxConnection({ ...this.base, host, port }, { name: "ferry-cluster-writer" });
      this.connections.set(addr, connection);
    }
    return connection;
  }

  /** Forget a node (it left the cluster or stopped answering): its pending writes settle as lost. */
  drop(addr: string): void {
    this.connections.get(addr)?.close();
    this.connections.delete(addr);
  }

  close(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }
}

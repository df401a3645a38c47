/**
 * One ioredis connection to one cluster node, with the credentials/TLS of the endpoint the user gave.
 * Not ioredis `Cluster`: the writer needs MULTI pinned to a node and its own MOVED/ASK handling.
 */
import { Redis, type RedisOptions } from "ioredis";
import type { RedisEndpoint } from "../replication/types.ts";

export interface NodeAddr {
  host: string;
  port: number;
}

export function nodeAddress(addr: NodeAddr): string {
  return `${addr.host}:${addr.port}`;
}

export function parseNodeAddress(text: string): NodeAddr {
  const colon = text.lastIndexOf(":");
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

export function connectNode(
  base: RedisEndpoint,
  addr: NodeAddr,
  opts: { connectTimeoutMs?: number } = {},
): Redis {
  const options: RedisOptions = {
    host: addr.host,
    port: addr.port,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    // A command written but not answered when the link drops must NOT be re-sent by ioredis: a
    // re-sent WATCH/MULTI/EXEC on a new connection would apply a batch part twice. The writer
    // re-reads the marker and retries instead.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    // Reconnect quickly but give up on a node that stays down (a failed master): the writer
    // refreshes the topology and moves on to the promoted replica.
    retryStrategy: (times) => (times > 5 ? null : Math.min(100 * times, 1000)),
    enableReadyCheck: true,
  };
  if (base.username !== undefined) options.username = base.username;
  if (base.password !== undefined) options.password = base.password;
  if (base.tls) {
    options.tls = {
      ...(base.tls.ca ? { ca: base.tls.ca } : {}),
      rejectUnauthorized: !base.tls.insecure,
      ...(base.tls.servername ? { servername: base.tls.servername } : {}),
    };
  }
  const client = new Redis(options);
  // Errors surface on the commands; an unhandled 'error' event would crash the process.
  client.on("error", () => {});
  return client;
}

/**
 * One ioredis connection to one cluster node, with the credentials/TLS of the endpoint the user gave.
 * Not ioredis `Cluster`: the writer needs MULTI pinned to a node and its own MOVED/ASK handling.
 */
import { isIP } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import { failCommandsOnClose, LONG_LIVED_OPTIONS } from "../connect/longLived.ts";
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
    // Long-lived (longLived.ts): reconnect forever, fail in-flight and queued commands on close. A
    // node that stays down (a failed master) answers each command with "Connection is closed"; the
    // writer then drops its client, refreshes the topology and moves on to the promoted replica.
    ...LONG_LIVED_OPTIONS,
    enableReadyCheck: true,
  };
  if (base.username !== undefined) options.username = base.username;
  if (base.password !== undefined) options.password = base.password;
  if (base.tls) {
    options.tls = {
      ...(base.tls.ca ? { ca: base.tls.ca } : {}),
      rejectUnauthorized: !base.tls.insecure,
      ...(base.tls.servername && !isIP(base.tls.servername) ? { servername: base.tls.servername } : {}),
    };
  }
  const client = new Redis(options);
  failCommandsOnClose(client);
  // Errors surface on the commands; an unhandled 'error' event would crash the process.
  client.on("error", () => {});
  return client;
}

/**
 * What a connection that lives as long as a job needs from ioredis, in one place. Three ioredis
 * pitfalls, each of which stranded a job after a target/source restart:
 *
 * (a) With resending off, commands in flight when a connection closes are dropped on reconnect and
 *     their callers wait for the command timeout (60 s, or forever without one).
 * (b) A bounded retryStrategy ends the client for good after its last attempt: a server down for a
 *     few seconds stranded the job on a dead client.
 * (c) ioredis settles every queued command (its own CLIENT SETNAME/SETINFO handshake included) every
 *     maxRetriesPerRequest+1 reconnects; a handshake settled that way makes it declare the dead
 *     connection ready, refuse its own pending reconnect ("already connected") and fail every
 *     later command with "Stream isn't writeable" — forever (seen behind a TCP proxy or load
 *     balancer that accepts while the server is down).
 */
import type { Redis, RedisOptions } from "ioredis";

/** Reconnect delay: quick after a blip, capped so a healed server is used again within 2 s. */
export function reconnectDelayMs(times: number): number {
  return Math.min(times * 200, 2000);
}

/** Options of a long-lived client: reconnect forever, never flush queues by retry count (c). */
export const LONG_LIVED_OPTIONS = {
  retryStrategy: reconnectDelayMs,
  maxRetriesPerRequest: null,
} as const satisfies Partial<RedisOptions>;

/** ioredis internals used by failCommandsOnClose (untyped there). */
interface IoredisInternals {
  flushQueue(error: Error, options: { offlineQueue: boolean; commandQueue: boolean }): void;
  commandQueue: { toArray(): Array<{ command: { _commandTimeoutTimer?: NodeJS.Timeout } }> };
}

/**
 * Fails, when the connection closes, what would otherwise wait for a timeout (a): the commands in
 * flight on a *ready* connection ("close" is emitted before any reconnect, so nothing is resent;
 * callers retry, and on the data path the marker decides what was applied), and the commands queued
 * while it was not connected (a server that stays down answers each of them at every failed
 * attempt instead of never, since maxRetriesPerRequest no longer flushes them).
 * A connection that closes before "ready" holds only ioredis' own handshake commands, which must
 * NOT be settled (c); their 60 s timers are only unref'd (they must not keep a stopped ferry alive).
 */
export function failCommandsOnClose(redis: Redis): void {
  redis.options.maxRetriesPerRequest = null;
  let ready = redis.status === "ready";
  redis.on("ready", () => {
    ready = true;
  });
  redis.on("close", () => {
    const internals = redis as unknown as IoredisInternals;
    const error = new Error("Connection is closed");
    if (ready) internals.flushQueue(error, { offlineQueue: true, commandQueue: true });
    else {
      internals.flushQueue(error, { offlineQueue: true, commandQueue: false });
      for (const { command } of internals.commandQueue.toArray()) command._commandTimeoutTimer?.unref();
    }
    ready = false;
  });
}

/**
 * Running work on the node that owns a slot, following the cluster's redirects:
 * - `MOVED <slot> <addr>`: the slot has a new owner for good → update the table, retry there.
 * - `ASK <slot> <addr>`: the slot is being migrated and this key already left → retry once on the
 *   importing node, prefixed with ASKING (the flag lasts one command, or a whole MULTI…EXEC).
 * - `TRYAGAIN` (multi-key request while a slot's keys are split between two nodes), `CLUSTERDOWN`
 *   (failover in progress), `LOADING`, a lost connection: back off and retry until `retryTimeoutMs`.
 */
import type { Redis } from "ioredis";
import { connectNode, type NodeAddr, parseNodeAddress } from "../cluster/connect.ts";
import type { SlotTable } from "../cluster/slotTable.ts";
import { FatalError, RetryableError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";

export type Redirect =
  | { kind: "moved"; slot: number; addr: string }
  | { kind: "ask"; slot: number; addr: string }
  | { kind: "retry"; reason: string; reconnect: boolean }
  | { kind: "fatal"; error: unknown };

const RETRY_REPLIES = /^(TRYAGAIN|CLUSTERDOWN|LOADING|MASTERDOWN|BUSY|READONLY)\b/;
const CONNECTION =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|Connection is closed|Stream isn't writeable|connect ETIMEDOUT|max retries|write after end/i;

/** Classify an error reply or connection failure. READONLY: we hit a master demoted to replica. */
export function classify(err: unknown): Redirect {
  const message = err instanceof Error ? err.message : String(err);
  const redirect = /^(MOVED|ASK) (\d+) (\S+)/.exec(message);
  if (redirect) {
    const kind = redirect[1] === "MOVED" ? "moved" : "ask";
    return { kind, slot: Number(redirect[2]), addr: redirect[3]! };
  }
  if (RETRY_REPLIES.test(message))
    return { kind: "retry", reason: message, reconnect: message.startsWith("READONLY") };
  if (CONNECTION.test(message)) return { kind: "retry", reason: message, reconnect: true };
  return { kind: "fatal", error: err };
}

export class NodePool {
  private readonly clients = new Map<string, Redis>();
  constructor(private readonly base: RedisEndpoint) {}

  get(addr: string): Redis {
    let client = this.clients.get(addr);
    if (!client || client.status === "end") {
      client = connectNode(this.base, parseNodeAddress(addr) as NodeAddr);
      this.clients.set(addr, client);
    }
    return client;
  }

  drop(addr: string): void {
    this.clients.get(addr)?.disconnect();
    this.clients.delete(addr);
  }

  close(): void {
    for (const client of this.clients.values()) client.disconnect();
    this.clients.clear();
  }
}

/** Redirect counters (metrics, and proof in tests that a path was exercised). */
export interface RouteStats {
  moved: number;
  ask: number;
  /** TRYAGAIN, CLUSTERDOWN, LOADING, lost connections, WATCH aborts. */
  retries: number;
}

export interface RouteOptions {
  retryTimeoutMs: number;
  onWarn: (message: string) => void;
  stats: RouteStats;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Run `work` against the node owning `slot` (or the ASK target, with `asking` set) until it
 * succeeds, a fatal error occurs, or the retry budget runs out. `work` may be called many times:
 * it must re-read whatever it decides on (the markers) on every call.
 */
export async function onSlot<T>(
  table: SlotTable,
  pool: NodePool,
  slot: number,
  opts: RouteOptions,
  work: (client: Redis, asking: boolean) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + opts.retryTimeoutMs;
  let askAddr: string | undefined;
  let lastReason = "";
  for (let attempt = 0; ; attempt++) {
    let immediate = false;
    let addr = askAddr ?? table.nodeFor(slot);
    if (addr === undefined) {
      await table.refresh().catch((err: unknown) => {
        lastReason = String(err);
      });
      addr = table.nodeFor(slot);
    }
    if (addr !== undefined) {
      const asking = askAddr !== undefined;
      askAddr = undefined;
      try {
        return await work(pool.get(addr), asking);
      } catch (err) {
        const redirect = classify(err);
        if (redirect.kind === "fatal") throw redirect.error;
        if (redirect.kind === "moved") {
          opts.stats.moved++;
          table.moved(redirect.slot, redirect.addr);
          void table.refresh().catch(() => {});
          lastReason = `MOVED to ${redirect.addr}`;
          immediate = true;
        } else if (redirect.kind === "ask") {
          opts.stats.ask++;
          askAddr = redirect.addr;
          lastReason = `ASK ${redirect.addr}`;
          immediate = true;
        } else {
          opts.stats.retries++;
          lastReason = `${addr}: ${redirect.reason}`;
          if (redirect.reconnect) {
            pool.drop(addr);
            await table.refresh().catch(() => {});
          }
        }
      }
    }
    if (Date.now() >= deadline) {
      throw new RetryableError(
        `slot ${slot} of the cluster target stayed unavailable for ${opts.retryTimeoutMs} ms (last: ${lastReason})`,
        "check the target cluster's health (CLUSTER INFO); the batch is safe to retry",
      );
    }
    // Redirects are retried at once (a few in a row are normal during resharding), the rest back off.
    if (!immediate || attempt % 16 === 15) await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
  }
}

/** Run `work` on one given node, retrying only what waiting can fix (CLUSTERDOWN, lost link). */
export async function onNode<T>(
  pool: NodePool,
  addr: string,
  opts: RouteOptions,
  work: (client: Redis) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + opts.retryTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(pool.get(addr));
    } catch (err) {
      const redirect = classify(err);
      if (redirect.kind !== "retry") throw redirect.kind === "fatal" ? redirect.error : retryable(addr, err);
      opts.stats.retries++;
      if (redirect.reconnect) pool.drop(addr);
      if (Date.now() >= deadline) throw retryable(addr, err);
    }
    await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
  }
}

function retryable(addr: string, err: unknown): RetryableError {
  return new RetryableError(
    `cluster target node ${addr} failed: ${err instanceof Error ? err.message : String(err)}`,
    "the topology changed or the node is down; the batch is safe to retry",
    { cause: err },
  );
}

/** Prefix the next command with ASKING when following an ASK redirect. */
export function withAsking<T>(client: Redis, asking: boolean, run: () => Promise<T>): Promise<T> {
  if (asking) void client.call("ASKING").catch(() => {});
  return run();
}

export function fatalCommand(name: string, err: unknown): FatalError {
  return new FatalError(
    `the cluster target refused ${name.toUpperCase()}: ${err instanceof Error ? err.message : String(err)}`,
    "check that the target supports this command and that the source's keys can live in one slot",
    { cause: err },
  );
}

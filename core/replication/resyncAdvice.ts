/**
 * Why the source answered `+FULLRESYNC` when ferry asked to continue, and which source setting to
 * raise so the next outage resumes with `+CONTINUE` instead of a new snapshot.
 *
 * Protocol facts (replication.c masterTryPartialResynchronization): the master continues only if the
 * asked replid is its replid (or its replid2 up to second_repl_offset, after a failover) AND the
 * asked offset is still inside its backlog [repl_backlog_first_byte_offset, master_repl_offset + 1].
 * A replica that reads too slowly is dropped once its output buffer passes
 * `client-output-buffer-limit replica <hard> <soft> <seconds>`; it then needs the backlog to hold
 * everything written since the offset it had read.
 */
import type { Redis } from "ioredis";
import {
  BACKLOG_TARGET_SECONDS,
  formatBytes,
  formatSeconds,
  type OutputBufferLimit,
  parseOutputBufferLimit,
  roundUpSize,
} from "../check/advice.ts";

export interface FullResyncFacts {
  /** What ferry asked for: PSYNC <replid> <offset + 1>. */
  asked: { replid: string; offset: number };
  /** The +FULLRESYNC answer. */
  answered: { replid: string; offset: number };
  /** The source's `master_replid2` (psync2 keeps the previous history after a failover). */
  replid2: string | null;
  /** CONFIG GET repl-backlog-size (null: CONFIG is not allowed, e.g. a managed service). */
  backlogBytes: number | null;
  outputBufferLimit: OutputBufferLimit | null;
  /** Source write rate (replication stream bytes/s), measured. */
  writeBytesPerSecond: number;
  /** How long ferry was away (link lost → full resync), when known in this process. */
  outageSeconds: number | null;
  /** The source closed the link (as opposed to a timeout or a network error). */
  closedBySource: boolean;
  /** Stream bytes the source had produced but ferry had not read when the link was lost. */
  unreadAtLoss: number | null;
}

export interface FullResyncExplanation {
  reason: string;
  advice: string;
  /** `repl-backlog-size` value to set, when the backlog was too small. */
  backlogSize?: string;
  /** `client-output-buffer-limit replica …` value to set, when the source dropped a slow reader. */
  outputBufferLimit?: string;
}

/** Headroom over the observed numbers: the next outage or burst is rarely smaller than the last. */
const HEADROOM = 2;

export function explainFullResync(f: FullResyncFacts): FullResyncExplanation {
  const historyKnown = f.asked.replid === f.answered.replid || f.asked.replid === f.replid2;
  if (!historyKnown) {
    return {
      reason:
        `the source's replication history changed (replid ${f.asked.replid.slice(0, 8)}… is neither its ` +
        `replid nor its replid2): it restarted without persistence, was replaced, or failed over to a node ` +
        "that never had ferry's position",
      advice:
        "no backlog size helps here; keep RDB/AOF persistence on the source so a restart keeps its replid " +
        "(Redis ≥ 7 stores replid and offset in the RDB on SHUTDOWN), and fail over only to replicas in sync",
    };
  }
  const missed = Math.max(0, f.answered.offset - f.asked.offset);
  const rate = f.outageSeconds && f.outageSeconds > 0 ? missed / f.outageSeconds : f.writeBytesPerSecond;
  const wanted = Math.max(missed * HEADROOM, rate * BACKLOG_TARGET_SECONDS);
  const backlogSize = roundUpSize(wanted);
  const current =
    f.backlogBytes === null ? "repl-backlog-size" : `repl-backlog-size ${formatBytes(f.backlogBytes)}`;
  const away =
    f.outageSeconds === null
      ? "since ferry's last applied offset"
      : `during the ${formatSeconds(f.outageSeconds)} ferry was away`;
  const reason =
    `the source's backlog (${current}) no longer holds offset ${f.asked.offset + 1}: ` +
    `${formatBytes(missed)} were written ${away} (${formatBytes(rate)}/s)`;
  const explanation: FullResyncExplanation = {
    reason,
    advice:
      `raise it on the source: CONFIG SET repl-backlog-size ${backlogSize} ` +
      `(${BACKLOG_TARGET_SECONDS} s of writes at ${formatBytes(rate)}/s, at least ${HEADROOM}× the ${formatBytes(missed)} missed)`,
    backlogSize,
  };
  const limit = f.outputBufferLimit;
  if (f.closedBySource && limit && (limit.hard > 0 || limit.soft > 0)) {
    // The master drops a replica whose output buffer passes the limit; ferry stops reading while
    // the target is slower than the source, so what it had not read is what filled that buffer.
    const filled = Math.max(f.unreadAtLoss ?? 0, limit.hard, limit.soft);
    const hard = roundUpSize(Math.max(filled * 4, 256 * 1024 * 1024));
    const soft = roundUpSize(Math.max(filled * HEADROOM, 64 * 1024 * 1024));
    const value = `replica ${hard} ${soft} 60`;
    explanation.outputBufferLimit = value;
    explanation.advice +=
      `; the source closed the link — if its log says "scheduled to be closed ASAP for overcoming of ` +
      `output buffer limits" (client-output-buffer-limit replica ${formatBytes(limit.hard)} ${formatBytes(limit.soft)} ${limit.softSeconds}), ` +
      `also raise that: CONFIG SET client-output-buffer-limit "${value}"`;
  }
  return explanation;
}

export interface SourceReplicationSettings {
  replid2: string | null;
  backlogBytes: number | null;
  outputBufferLimit: OutputBufferLimit | null;
  writeBytesPerSecond: number;
}

/**
 * Reads what explainFullResync needs on a side connection. CONFIG may be refused (managed
 * services, ACL): those facts are then null and the advice names the setting without a value.
 */
export async function readReplicationSettings(
  client: Redis,
  sampleMs = 1000,
): Promise<SourceReplicationSettings> {
  const offset = async () => {
    const info = await client.info("replication");
    return {
      offset: Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? 0),
      replid2: /master_replid2:([0-9a-f]{40})/.exec(info)?.[1] ?? null,
      at: Date.now(),
    };
  };
  const first = await offset();
  const config = async (name: string): Promise<string | null> => {
    try {
      const reply = (await client.config("GET", name)) as string[];
      return reply[1] ?? null;
    } catch {
      return null;
    }
  };
  const backlog = await config("repl-backlog-size");
  const limit = await config("client-output-buffer-limit");
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const second = await offset();
  return {
    replid2: first.replid2,
    backlogBytes: backlog === null ? null : Number(backlog),
    outputBufferLimit: limit === null ? null : parseOutputBufferLimit(limit),
    writeBytesPerSecond: ((second.offset - first.offset) * 1000) / Math.max(1, second.at - first.at),
  };
}

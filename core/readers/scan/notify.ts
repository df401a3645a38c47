/**
 * Keyspace notifications as the scan reader uses them: which `notify-keyspace-events` flags it
 * needs, and how a notification names its key. Notifications are node-local and fire-and-forget
 * (pub/sub): a subscriber that is disconnected misses them for good, hence the rescan rule.
 */
import { FatalError } from "../../errors.ts";

/**
 * Event classes whose writes change a key: generic (DEL, EXPIRE, RENAME…), string, list, set,
 * hash, zset, expired, stream. `A` is Redis's alias for all of them (plus evicted and module).
 * The same rule as `ferry check`'s source.notify-keyspace-events.
 */
const REQUIRED_CLASSES = [..."g$lshzxt"] as const;

export type NotifyChannelKind = "keyevent" | "keyspace";

export interface NotifyFlags {
  ok: boolean;
  /** Channel family to subscribe to (keyevent when both are on: the message is the key itself). */
  kind: NotifyChannelKind;
  /** Evictions are not notified (`e` missing): evicted keys would stay on the target. */
  missesEvictions: boolean;
}

export function judgeNotifyFlags(flags: string): NotifyFlags {
  const hasClasses = flags.includes("A") || REQUIRED_CLASSES.every((f) => flags.includes(f));
  const channel = flags.includes("E") || flags.includes("K");
  return {
    ok: hasClasses && channel,
    kind: flags.includes("E") ? "keyevent" : "keyspace",
    missesEvictions: !flags.includes("A") && !flags.includes("e"),
  };
}

/** The error when the source does not notify enough: the exact command, and the managed-service knob. */
export function notifyFlagsError(address: string, flags: string): FatalError {
  return new FatalError(
    `${address} has notify-keyspace-events "${flags}": scan mode would miss changed keys`,
    "run `CONFIG SET notify-keyspace-events KEA` on every source master (managed services: set the " +
      "`notify-keyspace-events` parameter to KEA in the parameter group — ElastiCache/MemoryDB — or " +
      "the instance's Redis configuration — Azure Cache, GCP Memorystore)",
  );
}

/** Pattern matching every db's notifications of one channel family. */
export function notifyPattern(kind: NotifyChannelKind): string {
  return kind === "keyevent" ? "__keyevent@*__:*" : "__keyspace@*__:*";
}

const PREFIX = { keyevent: Buffer.from("__keyevent@"), keyspace: Buffer.from("__keyspace@") } as const;
const SEPARATOR = Buffer.from("__:");

/**
 * `__keyevent@<db>__:<event>` carries the key as message; `__keyspace@<db>__:<key>` as the channel
 * suffix. Both are binary-safe (the key bytes are copied verbatim). null: not a notification.
 */
export function parseNotification(
  channel: Buffer,
  message: Buffer,
): { db: number; key: Buffer; event: string } | null {
  const kind: NotifyChannelKind | null = channel.subarray(0, PREFIX.keyevent.length).equals(PREFIX.keyevent)
    ? "keyevent"
    : channel.subarray(0, PREFIX.keyspace.length).equals(PREFIX.keyspace)
      ? "keyspace"
      : null;
  if (!kind) return null;
  const sep = channel.indexOf(SEPARATOR, PREFIX[kind].length);
  if (sep < 0) return null;
  const db = Number(channel.subarray(PREFIX[kind].length, sep).toString("latin1"));
  if (!Number.isInteger(db) || db < 0) return null;
  const suffix = channel.subarray(sep + SEPARATOR.length);
  return kind === "keyevent"
    ? { db, key: message, event: suffix.toString("latin1") }
    : { db, key: suffix, event: message.toString("latin1") };
}

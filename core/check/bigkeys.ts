/**
 * Big keys, found by SCAN + MEMORY USAGE within a time bound (a full scan of a large source could take
 * hours; a bounded sample still names the usual suspects). Big keys are copied in chunks by ferry, so
 * they are a warning about time and memory, not a failure.
 */
import type { Redis } from "ioredis";
import { formatBytes, type Verdict } from "./advice.ts";

export interface BigKey {
  db: number;
  key: Buffer;
  bytes: number;
}

export interface BigKeyScan {
  scanned: number;
  total: number;
  complete: boolean;
  largest: BigKey[];
}

export async function scanBigKeys(
  client: Redis,
  dbs: number[],
  opts: { seconds: number; keep: number; total: number },
): Promise<BigKeyScan> {
  const deadline = Date.now() + opts.seconds * 1000;
  const largest: BigKey[] = [];
  let scanned = 0;
  let complete = true;
  try {
    outer: for (const db of dbs) {
      if (dbs.length > 1 || db !== 0) await client.select(db);
      let cursor = "0";
      do {
        if (Date.now() > deadline) {
          complete = false;
          break outer;
        }
        const [next, keys] = await client.scanBuffer(cursor, "COUNT", 500);
        cursor = String(next);
        const sizes = await Promise.all(
          keys.map((k) => client.call("MEMORY", "USAGE", k) as Promise<number | null>),
        );
        keys.forEach((key, i) => {
          const bytes = Number(sizes[i] ?? 0);
          scanned++;
          if (largest.length < opts.keep || bytes > largest.at(-1)!.bytes) {
            largest.push({ db, key, bytes });
            largest.sort((x, y) => y.bytes - x.bytes);
            largest.length = Math.min(largest.length, opts.keep);
          }
        });
      } while (cursor !== "0");
    }
  } finally {
    if (dbs.length > 1 || dbs[0] !== 0) await client.select(0);
  }
  return { scanned, total: opts.total, complete, largest };
}

export function bigKeyVerdict(scan: BigKeyScan, threshold: number): Verdict {
  const coverage = scan.complete
    ? `scanned all ${scan.scanned} keys`
    : `scanned ${scan.scanned} of ${scan.total} keys within the time bound (--scan-seconds)`;
  const list = scan.largest.map((k) => `db${k.db}:${printableKey(k.key)} ${formatBytes(k.bytes)}`).join(", ");
  const big = scan.largest.filter((k) => k.bytes >= threshold);
  if (big.length === 0) {
    return {
      status: "ok",
      message: `${coverage}; none ≥ ${formatBytes(threshold)}${list ? `; largest: ${list}` : ""}`,
    };
  }
  return {
    status: "warn",
    message: `${coverage}; ${big.length} key(s) ≥ ${formatBytes(threshold)}: ${list}`,
    advice:
      "big keys are copied in chunks (slower, more target memory during the copy); raise --big-key-threshold only if the target accepts large RESTORE payloads",
  };
}

/** Keys are binary; show printable ASCII as is and escape the rest, capped for one line. */
export function printableKey(key: Buffer, max = 80): string {
  let out = "";
  for (const byte of key.subarray(0, max)) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return key.length > max ? `${out}…` : out;
}

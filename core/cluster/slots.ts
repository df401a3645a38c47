/**
 * Key → hash slot, exactly as Redis Cluster computes it (cluster.c `keyHashSlot`):
 * CRC16(key) mod 16384, except that when the key holds a `{…}` with at least one byte between the
 * FIRST `{` and the first `}` after it, only those bytes are hashed. `{}` (empty tag) or a `{`
 * without a closing `}` hash the whole key — the quirk clients get wrong most often.
 */
import { crc16 } from "./crc16.ts";

export const SLOT_COUNT = 16384;
const OPEN = 0x7b; // "{"
const CLOSE = 0x7d; // "}"

export function slotOf(key: Buffer | string): number {
  const buf = typeof key === "string" ? Buffer.from(key) : key;
  const open = buf.indexOf(OPEN);
  if (open !== -1) {
    const close = buf.indexOf(CLOSE, open + 1);
    if (close > open + 1) return crc16(buf, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(buf) & (SLOT_COUNT - 1);
}

let tags: string[] | null = null;

/**
 * A short ASCII string that hashes to `slot`, so `{<tag>}` pins a key to that slot (per-slot marker
 * keys). Built lazily once: every slot is reached by some 1–3 character alphanumeric string.
 */
export function slotTag(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) throw new RangeError(`not a slot: ${slot}`);
  tags ??= buildTags();
  return tags[slot]!;
}

function buildTags(): string[] {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const table = new Array<string | undefined>(SLOT_COUNT);
  let missing = SLOT_COUNT;
  const visit = (candidate: string): void => {
    const slot = crc16(Buffer.from(candidate)) & (SLOT_COUNT - 1);
    if (table[slot] === undefined) {
      table[slot] = candidate;
      missing--;
    }
  };
  for (const a of alphabet) visit(a);
  for (const a of alphabet) for (const b of alphabet) visit(a + b);
  for (const a of alphabet)
    for (const b of alphabet) {
      if (missing === 0) break;
      for (const c of alphabet) visit(a + b + c);
    }
  if (missing !== 0) throw new Error(`slot tag table incomplete: ${missing} slots without a tag`);
  return table as string[];
}

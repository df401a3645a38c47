/**
 * Case-insensitive lookup of a command name given as the Buffer of argv[0], without decoding it to
 * a string. The replication stream's hot path asks "is this one of a handful of names?" for every
 * command (control commands, commands dropped by name); a latin1 decode plus toLowerCase per command
 * was a measurable share of the stream's CPU (bench/README.md), a hash over ≤ 16 bytes is not.
 */

/** Names are matched ASCII-case-insensitively, as Redis' command table does (dictSdsKeyCaseCompare). */
function lower(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

function lengthBit(length: number): number {
  return 1 << Math.min(length, 31);
}

/** FNV-1a over the lower-cased bytes of buf[start, end). */
function foldedHash(buf: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ lower(buf[i]!), 0x01000193);
  return hash >>> 0;
}

interface Entry<V> {
  name: Buffer;
  value: V;
}

export class CommandNames<V> {
  private readonly byHash = new Map<number, Entry<V>[]>();
  private readonly longest: number;
  /**
   * Per lower-cased first byte, a bit per name length (31 = 31 or more): most lookups (SET against
   * SELECT, INCR, LPUSH…) end at this table, before any hashing.
   */
  private readonly firstBytes = new Uint32Array(256);

  /** `entries`: names in any case (ASCII) with the value `get` returns for them. */
  constructor(entries: Iterable<readonly [string, V]>) {
    let longest = 0;
    for (const [text, value] of entries) {
      const name = Buffer.from(text.toLowerCase(), "latin1");
      longest = Math.max(longest, name.length);
      if (name.length > 0) this.firstBytes[name[0]!]! |= lengthBit(name.length);
      const hash = foldedHash(name, 0, name.length);
      const list = this.byHash.get(hash) ?? [];
      list.push({ name, value });
      this.byHash.set(hash, list);
    }
    this.longest = longest;
  }

  /** The value of `name` (any case), or undefined. */
  get(name: Buffer): V | undefined {
    return this.getRange(name, 0, name.length);
  }

  /** The value of the name held in buf[start, end), without a view of it. */
  getRange(buf: Buffer, start: number, end: number): V | undefined {
    const length = end - start;
    if (length > this.longest || length <= 0) return undefined;
    if ((this.firstBytes[lower(buf[start]!)]! & lengthBit(length)) === 0) return undefined;
    const list = this.byHash.get(foldedHash(buf, start, end));
    if (list === undefined) return undefined;
    for (const entry of list) if (sameName(buf, start, length, entry.name)) return entry.value;
    return undefined;
  }
}

function sameName(buf: Buffer, start: number, length: number, lowerName: Buffer): boolean {
  if (length !== lowerName.length) return false;
  for (let i = 0; i < length; i++) if (lower(buf[start + i]!) !== lowerName[i]) return false;
  return true;
}

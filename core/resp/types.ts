/**
 * Decoded RESP2/RESP3 values. Common replies map to plain JS values (bulk string → Buffer, integer →
 * number, array → RespValue[], null → null, boolean → boolean) so the replication hot path allocates
 * nothing per element; the rarer RESP3 types get small classes so a caller can tell them apart.
 */

/** `+OK` — kept as a string: simple strings never carry binary data (no CR/LF allowed). */
export class RespSimpleString {
  constructor(readonly value: string) {}
}

/** `-ERR …` or RESP3 blob error `!<len>`. Returned, not thrown: the caller decides what it means. */
export class RespErrorReply {
  constructor(readonly message: string) {}
  /** First word of the message, e.g. `WRONGPASS`, `NOPERM`, `LOADING`. */
  get code(): string {
    const space = this.message.indexOf(" ");
    return space === -1 ? this.message : this.message.slice(0, space);
  }
}

/** RESP3 `,` double (kept apart from integers; `inf`, `-inf`, `nan` allowed). */
export class RespDouble {
  constructor(readonly value: number) {}
}

/** RESP3 `=` verbatim string: a 3-letter format (`txt`, `mkd`) and the text bytes. */
export class RespVerbatim {
  constructor(
    readonly format: string,
    readonly text: Buffer,
  ) {}
}

/** RESP3 `%` map, entries in wire order (keys may be any value, so no JS Map). */
export class RespMap {
  constructor(readonly entries: Array<[RespValue, RespValue]>) {}
}

/** RESP3 `~` set. */
export class RespSet {
  constructor(readonly items: RespValue[]) {}
}

/** RESP3 `>` push (out-of-band data such as pub/sub messages or invalidations). */
export class RespPush {
  constructor(readonly items: RespValue[]) {}
}

export type RespValue =
  | Buffer
  | number
  /** `:` integers outside ±2^53 and every RESP3 `(` big number. */
  | bigint
  | boolean
  | null
  | RespValue[]
  | RespSimpleString
  | RespErrorReply
  | RespDouble
  | RespVerbatim
  | RespMap
  | RespSet
  | RespPush;

/** One complete top-level frame. */
export interface RespFrame {
  value: RespValue;
  /** Bytes the frame occupied on the wire, attributes included (replication offsets count them). */
  bytes: number;
  /** RESP3 `|` attributes that preceded the value at top level (nested ones are skipped). */
  attributes?: RespMap;
}

/** Returned by the decoder when the buffered bytes do not hold a complete frame yet. */
export const NEED_MORE: unique symbol = Symbol("resp.needMore");
export type NeedMore = typeof NEED_MORE;

/**
 * Unsigned LEB128 on plain numbers (safe integers up to 2^53 - 1). Arithmetic instead of `>>>`
 * because replication offsets exceed 2^32 on long-lived masters.
 */
import { FatalError } from "../errors.ts";

export function uvarSize(value: number): number {
  let size = 1;
  let rest = value;
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80);
    size++;
  }
  return size;
}

export class Writer {
  private readonly buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  u8(value: number): void {
    this.buf[this.pos++] = value;
  }

  uvar(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new FatalError(`cannot encode ${value} in a batch message: not a non-negative safe integer`);
    }
    let rest = value;
    while (rest >= 0x80) {
      this.buf[this.pos++] = (rest % 0x80) + 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buf[this.pos++] = rest;
  }

  bytes(value: Buffer): void {
    this.uvar(value.length);
    value.copy(this.buf, this.pos);
    this.pos += value.length;
  }

  done(): Buffer {
    return this.pos === this.buf.length ? this.buf : this.buf.subarray(0, this.pos);
  }
}

export class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new FatalError(
        "batch message is truncated",
        "the message was cut or corrupted in transit; move it to the dead-letter queue and resync the shard",
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  uvar(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new FatalError("batch message has an overlong integer (corrupt message)");
    }
    return value;
  }

  bytes(): Buffer {
    const length = this.uvar();
    this.need(length);
    // Copy: the caller may keep args long after the (large) message buffer is dropped.
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + length));
    this.pos += length;
    return out;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }
}

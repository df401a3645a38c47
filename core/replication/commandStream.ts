/**
 * Offset accounting for the command stream after the RDB (replication.c semantics): every byte of
 * every frame counts, PING/SELECT/REPLCONF included. PING, SELECT and REPLCONF are consumed here;
 * a MULTI…EXEC block is held until EXEC and released whole, every command carrying the EXEC's end
 * offset, so a transaction can never be split across batches or half-applied after a resume.
 */

import { FatalError } from "../errors.ts";
import type { Command } from "../model.ts";
import type { ScannedCommand } from "../resp/decoder.ts";
import { CommandNames } from "../resp/names.ts";
import { StreamCommand, splitCommandFrame } from "../resp/streamCommand.ts";
import type { RespFrame } from "../resp/types.ts";

/** Commands the stream consumes itself (matched case-insensitively). Everything else is data. */
export const CONTROL_COMMANDS = {
  ping: "noop",
  replconf: "replconf",
  select: "select",
  multi: "multi",
  exec: "exec",
  discard: "discard",
} as const;
type Control = (typeof CONTROL_COMMANDS)[keyof typeof CONTROL_COMMANDS];

/** Matched on argv[0]'s bytes: no string is built for the name of every data command. */
const CONTROL = new CommandNames<Control>(Object.entries(CONTROL_COMMANDS));
const GETACK = Buffer.from("getack");

export interface FrameResult {
  /** Commands released by this frame: none, one, or a whole transaction (at EXEC). */
  commands: Command[];
  /** The master asked for `REPLCONF ACK` now (REPLCONF GETACK *). */
  getAck: boolean;
}

export class CommandStream {
  /** Offset after the last complete frame received. */
  offset: number;
  /** Current db (SELECT) at `offset`. */
  db: number;
  /**
   * Last point outside a transaction: every byte up to it is released or a no-op. Redis' replica only
   * advances its processed offset (reploff) outside MULTI too (networking.c commandProcessed).
   */
  safeOffset: number;
  safeDb: number;
  private txn: Command[] | null = null;
  private txnId = 0;

  constructor(offset: number, db: number) {
    this.offset = offset;
    this.db = db;
    this.safeOffset = offset;
    this.safeDb = db;
  }

  get inTransaction(): boolean {
    return this.txn !== null;
  }

  feed(frame: RespFrame): FrameResult {
    const argv = frame.value;
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((arg) => Buffer.isBuffer(arg))) {
      throw new FatalError(
        `unexpected frame in the replication stream at offset ${this.offset}: not a command array`,
        "the source sent something a Redis master never sends; report it with the source version",
      );
    }
    const commands: Command[] = [];
    const getAck = this.feedArgv(argv as Buffer[], frame.bytes, commands);
    return { commands, getAck };
  }

  /**
   * The hottest path: a command frame the decoder scanned (RespDecoder.scanCommand). A data command
   * becomes a StreamCommand that keeps the frame's bytes and builds no argv; the rare control
   * frames (PING, SELECT, REPLCONF, MULTI, EXEC) take feedArgv.
   */
  feedScanned(scan: ScannedCommand, out: Command[]): boolean {
    const { buf, start, end } = scan;
    if (CONTROL.getRange(buf, scan.nameStart, scan.nameEnd) !== undefined) {
      return this.feedArgv(splitCommandFrame(buf.subarray(start, end)), end - start, out);
    }
    this.offset += end - start;
    const command = new StreamCommand(buf, start, end, scan.nameStart, scan.nameEnd, this.db, this.offset);
    if (this.txn) {
      this.txn.push(command);
    } else {
      out.push(command);
      this.safeOffset = this.offset;
      this.safeDb = this.db;
    }
    return false;
  }

  /**
   * One command frame given as its argv, `bytes` long on the wire: the frames feed() decoded, and
   * the control frames feedScanned() met. Released commands are appended to `out`; returns true for
   * REPLCONF GETACK.
   */
  private feedArgv(args: Buffer[], bytes: number, out: Command[]): boolean {
    const at = this.offset;
    this.offset += bytes;
    let getAck = false;
    const name = args[0];
    if (name === undefined) {
      throw new FatalError(
        `unexpected frame in the replication stream at offset ${at}: an empty command array`,
        "the source sent something a Redis master never sends; report it with the source version",
      );
    }
    switch (CONTROL.get(name)) {
      case "noop":
        break;
      case "replconf":
        getAck =
          args[1] !== undefined && args[1].length === GETACK.length && equalsIgnoreCase(args[1], GETACK);
        break;
      case "select":
        this.db = parseDb(args[1], at);
        break;
      case "multi":
        this.txn = [];
        this.txnId++;
        break;
      case "exec":
        for (const command of this.txn ?? []) {
          command.offset = this.offset;
          command.txn = this.txnId;
          out.push(command);
        }
        this.txn = null;
        break;
      case "discard":
        this.txn = null;
        break;
      default: {
        const command: Command = { argv: args, db: this.db, offset: this.offset };
        if (this.txn) this.txn.push(command);
        else out.push(command);
      }
    }
    if (this.txn === null) {
      this.safeOffset = this.offset;
      this.safeDb = this.db;
    }
    return getAck;
  }
}

function equalsIgnoreCase(a: Buffer, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) if ((a[i]! | 0x20) !== lower[i]) return false;
  return true;
}

function parseDb(arg: Buffer | undefined, at: number): number {
  const db = arg === undefined ? Number.NaN : Number(arg.toString("latin1"));
  if (!Number.isInteger(db) || db < 0) {
    throw new FatalError(
      `invalid SELECT in the replication stream at offset ${at}`,
      "report it with the source version",
    );
  }
  return db;
}

/**
 * A data command of the replication stream, kept as the exact bytes the master sent; its argv is
 * split out of them only when a stage asks for it.
 *
 * Why: on a standalone target with no filter rule nothing on the stream path needs the arguments:
 * the stream and the filter look at the command name, the batcher at the frame's size, and the
 * writer forwards the bytes verbatim (core/resp/raw.ts). Building argv anyway cost an array and one
 * Buffer view per argument for every command, which the stream profile showed as a third of
 * ferry's CPU (decoder views plus the garbage collection they caused). Stages that do need argv
 * (key filters, cluster routing, the SQS wire format) read `argv` and get it, built once.
 *
 * `raw` follows the RawCommand convention (setting `argv`, a rewrite, drops it), but the frame is
 * kept as a position in the read buffer and a view is made only for whoever asks for `raw`.
 */
import type { Command } from "../model.ts";
import type { CommandNames } from "./names.ts";

export class StreamCommand implements Command {
  declare txn?: number;
  declare seq?: number;
  private parsed: Buffer[] | undefined = undefined;
  /** False once argv was replaced: the frame no longer encodes the command. */
  private intact = true;

  constructor(
    /** The frame is src[start, end) (the read buffer: no view is made per command). */
    private readonly src: Buffer,
    private readonly start: number,
    private readonly end: number,
    /** argv[0]'s bytes are src[nameStart, nameEnd). */
    private readonly nameStart: number,
    private readonly nameEnd: number,
    public db: number,
    public offset: number,
  ) {}

  /** The frame's bytes while they still encode argv (RawCommand's `raw`); a view made on demand. */
  get raw(): Buffer | undefined {
    return this.intact ? this.src.subarray(this.start, this.end) : undefined;
  }

  get argv(): Buffer[] {
    if (this.parsed === undefined) this.parsed = splitCommandFrame(this.src.subarray(this.start, this.end));
    return this.parsed;
  }

  set argv(argv: Buffer[]) {
    this.parsed = argv;
    this.intact = false;
  }

  /** True until a stage asked for argv: the frame is then the command by definition. */
  get untouched(): boolean {
    return this.parsed === undefined && this.intact;
  }

  /** Size of the frame (= commandBytes(argv) while intact). */
  get frameBytes(): number {
    return this.end - this.start;
  }

  /** Copies the frame into `out` at `at`; returns the bytes copied. Only while intact. */
  copyFrame(out: Buffer, at: number): number {
    return this.src.copy(out, at, this.start, this.end);
  }

  /** `next`'s frame starts where this one ends in the same read buffer (one copy can take both). */
  adjoins(next: StreamCommand): boolean {
    return next.src === this.src && next.start === this.end;
  }

  /** Copies the frames of `first` … `last` (adjoining, in order) into `out` at `at` in one call. */
  static copyRun(first: StreamCommand, last: StreamCommand, out: Buffer, at: number): number {
    return first.src.copy(out, at, first.start, last.end);
  }

  /** A stage rewrote the command without going through the argv setter. */
  dropFrame(): void {
    this.intact = false;
  }

  /** `names`' value for this command's name, read from the frame without building argv. */
  lookupName<V>(names: CommandNames<V>): V | undefined {
    if (this.untouched) return names.getRange(this.src, this.nameStart, this.nameEnd);
    const name = this.argv[0];
    return name === undefined ? undefined : names.get(name);
  }
}

/** `names`' value for `command`'s name (argv[0]), without building argv when it can be avoided. */
export function lookupCommandName<V>(names: CommandNames<V>, command: Command): V | undefined {
  if (command instanceof StreamCommand) return command.lookupName(names);
  const name = command.argv[0];
  return name === undefined ? undefined : names.get(name);
}

/**
 * The argv of one complete `*<n>\r\n($<len>\r\n<bytes>\r\n)…` frame that the decoder already
 * validated (RespDecoder.scanCommand), as views of `frame`.
 */
export function splitCommandFrame(frame: Buffer): Buffer[] {
  let at = 1;
  let count = 0;
  while (frame[at] !== 0x0d) count = count * 10 + frame[at++]! - 0x30;
  at += 2;
  const argv: Buffer[] = new Array(count);
  for (let n = 0; n < count; n++) {
    at++; // '$'
    let length = 0;
    while (frame[at] !== 0x0d) length = length * 10 + frame[at++]! - 0x30;
    const body = at + 2;
    argv[n] = frame.subarray(body, body + length);
    at = body + length + 2;
  }
  return argv;
}

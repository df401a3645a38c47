import { DEFAULT_BIG_KEY_THRESHOLD, MAX_KNOWN_VERSION, RDB_OPCODE, typeTableFor } from "./constants.ts";
import { type ParseContext, pause } from "./context.ts";
import { RdbFormatError } from "./errors.ts";
import { ByteInput, type Need } from "./input.ts";
import { moduleNameFromId, skipModuleOpcodes } from "./module.ts";
import { dumpPayloadOf } from "./payload.ts";
import { skipValue } from "./skip.ts";
import { readString, tryString } from "./strings.ts";
import type { KeyMeta, RdbEvent, RdbMagic, RdbParserOptions } from "./types.ts";
import { VALUE_READERS } from "./values.ts";

/**
 * Streaming RDB parser: `write(chunk)` any split of the bytes, `end()` when the input is over.
 * Events come out synchronously from write()/end(). Memory is bounded by bigKeyThreshold +
 * chunkBytes (plus one packed node or one string element), never by the dataset.
 *
 * The grammar is written as a generator (parseRdb) that yields whenever it needs more bytes, which
 * makes it resumable at every byte without a hand-written state machine.
 */

export { DEFAULT_BIG_KEY_THRESHOLD };
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** Raised out of the generator to tell an event handler's exception from a decoding error. */
class HandlerError {
  constructor(readonly error: unknown) {}
}

const MODULE_WHEN_OPCODE_UINT = 2;
const INPUT_RESERVE_SLACK = 1024 * 1024;
const MAX_INPUT_RESERVE = 64 * 1024 * 1024;

export class RdbParser {
  private readonly inp: ByteInput;
  private readonly ctx: ParseContext;
  private readonly gen: Generator<void, void, void>;
  private done = false;
  private failed: unknown;
  private running = false;
  private trailing = 0;

  constructor(options: RdbParserOptions, onEvent: (e: RdbEvent) => void) {
    const bigKeyThreshold = options.bigKeyThreshold ?? DEFAULT_BIG_KEY_THRESHOLD;
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!(bigKeyThreshold >= 0) || !(chunkBytes >= 1))
      throw new RangeError("bigKeyThreshold must be ≥ 0 and chunkBytes ≥ 1");
    // A capture holds up to the threshold plus the element that crossed it (an element beyond the
    // slack grows the buffer further); a threshold of gigabytes reserves at most MAX_INPUT_RESERVE.
    this.inp = new ByteInput(Math.min(bigKeyThreshold + INPUT_RESERVE_SLACK, MAX_INPUT_RESERVE));
    this.ctx = {
      inp: this.inp,
      bigKeyThreshold,
      chunkBytes,
      captureRaw: options.captureRaw ?? false,
      modules: options.modules ?? "capture",
      dumps: options.dumps ?? (() => false),
      dumping: false,
      knownBig: false,
      bigByDecodedSize: options.bigByDecodedSize,
      emitted: 0,
      outputBudget: options.outputBudget ?? Number.POSITIVE_INFINITY,
      paused: false,
      emit: (e) => {
        try {
          onEvent(e);
        } catch (err) {
          throw new HandlerError(err);
        }
      },
      magic: "REDIS",
      version: 0,
      types: typeTableFor("REDIS", 0),
    };
    this.gen = parseRdb(this.ctx);
  }

  /** Bytes consumed so far (absolute offset in the RDB). */
  get offset(): number {
    return this.inp.offset;
  }

  /**
   * Bytes received after the EOF checksum. Redis stops reading there too (rdbLoad ignores the rest
   * of a file); the caller decides whether they matter (a replication stream should have none).
   */
  get trailingBytes(): number {
    return this.trailing;
  }

  get finished(): boolean {
    return this.done;
  }

  /**
   * True when the last write()/end()/continue() stopped because it emitted `outputBudget` bytes of
   * values: apply backpressure, then call continue() (more input may also be written meanwhile).
   */
  get paused(): boolean {
    return this.ctx.paused;
  }

  /** Goes on after a pause, with the input already written. */
  continue(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.running) throw new Error("RdbParser.continue() called from inside an event handler");
    if (this.done) return;
    this.run();
    if (this.done) this.trailing += this.inp.available;
    this.checkEnded();
  }

  write(chunk: Buffer): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.running) throw new Error("RdbParser.write() called from inside an event handler");
    if (this.done) {
      this.trailing += chunk.length;
      return;
    }
    this.inp.push(chunk);
    this.run();
    if (this.done) this.trailing += this.inp.available;
  }

  /** Declares the input complete; throws RdbFormatError if the RDB did not reach its EOF. */
  end(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.done) return;
    this.inp.ended = true;
    this.run();
    this.checkEnded();
  }

  /** After end(): not paused and not at EOF means the input stopped short. */
  private checkEnded(): void {
    if (this.inp.ended && !this.done && !this.ctx.paused)
      throw new RdbFormatError("input ended before the RDB's EOF opcode", this.inp.offset);
  }

  private run(): void {
    this.ctx.emitted = 0;
    this.ctx.paused = false;
    this.running = true;
    try {
      if (this.gen.next().done) this.done = true;
    } catch (err) {
      this.failed = err instanceof HandlerError ? err.error : toFormatError(err, this.inp);
      throw this.failed;
    } finally {
      this.running = false;
    }
  }
}

/** Decoders check bounds, but a RangeError from a Buffer read on a corrupt blob is still corruption. */
function toFormatError(err: unknown, inp: ByteInput): unknown {
  if (err instanceof RangeError)
    return new RdbFormatError(`corrupt data (${err.message})`, inp.offset, inp.key, { cause: err });
  return err;
}

export function createRdbParser(options: RdbParserOptions, onEvent: (e: RdbEvent) => void): RdbParser {
  return new RdbParser(options, onEvent);
}

const DIGITS = /^[0-9]+$/;

function* readHeader(ctx: ParseContext): Need<void> {
  const inp = ctx.inp;
  yield* inp.ensure(9);
  const head = inp.view(9).toString("latin1");
  // REDIS + 4 digits (Redis, Valkey ≤ 8.1), or VALKEY + 3 digits (Valkey 9+).
  let magic: RdbMagic;
  let digits: string;
  if (head.startsWith("REDIS")) {
    magic = "REDIS";
    digits = head.slice(5);
  } else if (head.startsWith("VALKEY")) {
    magic = "VALKEY";
    digits = head.slice(6);
  } else {
    throw inp.error(`not an RDB: starts with ${JSON.stringify(head)} instead of REDIS or VALKEY`, 0);
  }
  if (!DIGITS.test(digits)) throw inp.error(`invalid RDB version ${JSON.stringify(digits)}`, 0);
  const version = Number(digits);
  if (version < 1 || version > MAX_KNOWN_VERSION[magic])
    throw inp.error(
      `${magic} RDB version ${version} is not supported (known: 1–${MAX_KNOWN_VERSION[magic]})`,
      0,
    );
  ctx.magic = magic;
  ctx.version = version;
  ctx.types = typeTableFor(magic, version);
  ctx.dumping = ctx.dumps(magic, version);
  ctx.emit({ kind: "header", magic, version });
}

function* readStringArg(ctx: ParseContext): Need<Buffer> {
  return tryString(ctx.inp) ?? (yield* readString(ctx.inp));
}

function* parseRdb(ctx: ParseContext): Need<void> {
  const inp = ctx.inp;
  yield* readHeader(ctx);
  let db = 0;
  let expireAtMs: number | undefined;
  let lruIdleSeconds: number | undefined;
  let lfuFreq: number | undefined;
  for (;;) {
    yield* inp.ensure(1);
    const opAt = inp.offset;
    const op = inp.u8();
    switch (op) {
      case RDB_OPCODE.AUX: {
        const key = yield* readStringArg(ctx);
        const value = yield* readStringArg(ctx);
        ctx.emit({ kind: "aux", key, value });
        continue;
      }
      case RDB_OPCODE.SELECTDB:
        db = yield* inp.readLen();
        ctx.emit({ kind: "selectdb", db });
        continue;
      case RDB_OPCODE.RESIZEDB: {
        const dbSize = yield* inp.readLen();
        const expiresSize = yield* inp.readLen();
        ctx.emit({ kind: "resizedb", dbSize, expiresSize });
        continue;
      }
      case RDB_OPCODE.SLOT_INFO:
        // Cluster slot sizing hint: slot id, keys, expires. Nothing to migrate.
        yield* inp.readLen();
        yield* inp.readLen();
        yield* inp.readLen();
        continue;
      case RDB_OPCODE.EXPIRETIME_MS:
        expireAtMs = yield* inp.readMillis();
        continue;
      case RDB_OPCODE.EXPIRETIME:
        // RDB < 3: seconds as a 4-byte little-endian int.
        yield* inp.ensure(4);
        expireAtMs = inp.buf.readInt32LE(inp.pos) * 1000;
        inp.pos += 4;
        continue;
      case RDB_OPCODE.IDLE:
        lruIdleSeconds = yield* inp.readLen();
        continue;
      case RDB_OPCODE.FREQ:
        yield* inp.ensure(1);
        lfuFreq = inp.u8();
        continue;
      case RDB_OPCODE.FUNCTION2:
        ctx.emit({ kind: "function", code: yield* readStringArg(ctx) });
        continue;
      case RDB_OPCODE.FUNCTION_PRE_GA: {
        // 7.0 rc1/rc2: name, engine, optional description, code.
        yield* readStringArg(ctx);
        yield* readStringArg(ctx);
        if ((yield* inp.readLen()) !== 0) yield* readStringArg(ctx);
        ctx.emit({ kind: "function", code: yield* readStringArg(ctx) });
        continue;
      }
      case RDB_OPCODE.MODULE_AUX: {
        const start = inp.offset;
        inp.mark = start;
        const moduleId = yield* inp.readLenBig();
        const whenOpcode = yield* inp.readLen();
        if (whenOpcode !== MODULE_WHEN_OPCODE_UINT)
          throw inp.error(`module aux 'when' has opcode ${whenOpcode}, expected ${MODULE_WHEN_OPCODE_UINT}`);
        const when = yield* inp.readLen();
        yield* skipModuleOpcodes(inp);
        const raw = inp.copyRange(start, inp.offset);
        inp.mark = -1;
        ctx.emit({ kind: "module-aux", moduleId, moduleName: moduleNameFromId(moduleId), when, raw });
        continue;
      }
      case RDB_OPCODE.EOF: {
        inp.checksumTo(inp.offset);
        const computed = inp.checksum();
        let checksumOk: boolean | null = null;
        // RDB ≥ 5 ends with a CRC-64 of everything before it; 0 means rdbchecksum was off.
        if (ctx.version >= 5) {
          const stored = yield* inp.readU64LE();
          if (stored !== 0n) {
            checksumOk = stored === computed;
            if (!checksumOk)
              throw inp.error(
                `checksum mismatch: the file says 0x${stored.toString(16)}, the bytes give 0x${computed.toString(16)}`,
              );
          }
        }
        ctx.emit({ kind: "eof", checksumOk, bytes: inp.offset });
        return;
      }
      default: {
        const info = ctx.types[op];
        const reader = VALUE_READERS[op];
        if (!info || !reader)
          throw inp.error(
            `unknown RDB type or opcode ${op} in a ${ctx.magic} RDB version ${ctx.version}` +
              (ctx.magic === "VALKEY" || op > 25 ? "" : " (types 22–25 exist only in Redis 7.4+, RDB 12)"),
            opAt,
          );
        const key = yield* readStringArg(ctx);
        inp.key = key;
        const meta: KeyMeta = { db, key, rdbType: op };
        if (expireAtMs !== undefined) meta.expireAtMs = expireAtMs;
        if (lruIdleSeconds !== undefined) meta.lruIdleSeconds = lruIdleSeconds;
        if (lfuFreq !== undefined) meta.lfuFreq = lfuFreq;
        const valueStart = inp.offset;
        if (ctx.captureRaw || ctx.dumping) inp.mark = valueStart;
        if (ctx.dumping) {
          const skipped = yield* skipValue(ctx, op, valueStart);
          if (skipped === "dump") {
            const dump = dumpPayloadOf(op, inp.buf, valueStart - inp.base, inp.pos, ctx.version);
            ctx.emitted += dump.length;
            ctx.emit({ kind: "key-dump", meta, valueType: info.valueType, dump });
          } else {
            // Big, empty, stream or module: the decoding reader takes it from the start. A value
            // known to be big is chunked from its first element, not collected up to the threshold
            // a second time.
            inp.pos = valueStart - inp.base;
            if (!ctx.captureRaw || skipped === "big") inp.mark = -1;
            ctx.knownBig = skipped === "big";
            yield* reader(ctx, meta, valueStart);
            ctx.knownBig = false;
          }
        } else {
          yield* reader(ctx, meta, valueStart);
        }
        inp.mark = -1;
        inp.key = undefined;
        expireAtMs = undefined;
        lruIdleSeconds = undefined;
        lfuFreq = undefined;
        yield* pause(ctx);
      }
    }
  }
}

/**
 * Bytes of values a paced consumer lets the parser emit per call (`outputBudget`): a few chunks, so
 * a compressed RDB that expands a hundredfold still reaches the queue's backpressure every 4 MiB.
 */
export const PACED_OUTPUT_BUDGET = 4 * 1024 * 1024;

/**
 * After write()/end(): hands what was emitted to `drain` (which applies backpressure), then lets a
 * paused parser go on, as often as it pauses.
 */
export async function drainParser(parser: RdbParser, drain: () => Promise<void>): Promise<void> {
  await drain();
  while (parser.paused) {
    parser.continue();
    await drain();
  }
}

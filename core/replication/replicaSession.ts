/**
 * ReplicaSession: poses as a replica of one source master over a raw socket (DESIGN.md data flow).
 *
 *   AUTH → CLIENT SETNAME → REPLCONF listening-port 0 → REPLCONF capa eof capa psync2
 *   → PSYNC <replid> <offset+1> | ? -1
 *   +FULLRESYNC → RDB payload ($<len> or $EOF:<mark>) → command stream      (sink.fullResync/rdb*)
 *   +CONTINUE   → command stream from the resume offset                       (sink.continued)
 *
 * The sink's promises are awaited before the socket is read again: that is the pipeline's
 * backpressure (the master buffers for us, bounded by client-output-buffer-limit replica).
 * One session = one connection; a supervisor reconnects by constructing a new session with `resume`.
 *
 * ACK semantics (replication.c replicationSendAck sends the replica's *processed* offset, which
 * networking.c only advances outside MULTI): the session ACKs `appliedOffset` once the pipeline has
 * called setAppliedOffset(), and until then the offset up to which the sink has accepted the stream
 * (resume/FULLRESYNC offset at first). A GETACK is answered with the offset before the GETACK itself,
 * as Redis does; the periodic ACK then covers it.
 */
import type { Socket } from "node:net";
import { FatalError, FerryError, RetryableError } from "../errors.ts";
import type { Command } from "../model.ts";
import { RespDecoder } from "../resp/decoder.ts";
import { encodeCommand } from "../resp/encoder.ts";
import { RespProtocolError } from "../resp/errors.ts";
import { NEED_MORE, RespErrorReply, RespSimpleString, type RespValue } from "../resp/types.ts";
import { CommandStream } from "./commandStream.ts";
import { connectionError, endpointAddress, openSocket } from "./connect.ts";
import { EOF_MARK_LENGTH, EofMarkScanner } from "./eofMark.ts";
import { type HandshakeStep, handshakeError } from "./replyErrors.ts";
import type { ReplicaSessionOptions, ReplicaSink } from "./types.ts";

export type ReplicaPhase = "connecting" | "handshake" | "snapshot" | "streaming" | "closed";

const KEEPALIVE = 0x0a;
const CLOSED_LINK_ADVICE =
  "ferry reconnects and resumes with PSYNC; if it keeps happening, check the source's log (client-output-buffer-limit replica, repl-timeout)";

function isConnectionReset(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNRESET" || code === "EPIPE";
}
const DOLLAR = 0x24;
/** The replication link's name in the source's CLIENT LIST (it shows there with flags=S). */
export const REPLICA_CLIENT_NAME = "ferry-replica";
/** Replid reported for a legacy SYNC transfer: a later PSYNC with it always gets a full resync. */
export const LEGACY_REPLID = "?";
const FULLRESYNC = /^FULLRESYNC ([0-9a-zA-Z]{40}) (\d+)$/;
const CONTINUE = /^CONTINUE(?: ([0-9a-zA-Z]{40}))?$/;
const DISKLESS_HEADER = /^\$EOF:(.{40})$/s;
const DISK_HEADER = /^\$(\d+)$/;

export class ReplicaSession {
  private _phase: ReplicaPhase = "connecting";
  private _replid: string | null = null;
  private stream: CommandStream | null = null;
  /** Offset up to which the sink has accepted the stream. */
  private processedOffset = -1;
  private appliedOffset: number | undefined;
  private _rdbBytes = 0;
  private _legacySync = false;
  private socket: Socket | null = null;
  private reader: AsyncIterator<Buffer> | null = null;
  private readonly decoder = new RespDecoder();
  private closing = false;
  private running: Promise<void> | null = null;
  private ackTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** When the session started waiting for bytes; undefined while it is busy (or awaiting the sink). */
  private waitingSince: number | undefined;
  private readonly address: string;

  constructor(
    private readonly options: ReplicaSessionOptions,
    private readonly sink: ReplicaSink,
  ) {
    this.address = endpointAddress(options.endpoint);
  }

  get phase(): ReplicaPhase {
    return this._phase;
  }
  get replid(): string | null {
    return this._replid;
  }
  /** Offset after the last complete stream frame read (-1 before PSYNC answered). */
  get receivedOffset(): number {
    return this.stream?.offset ?? this.processedOffset;
  }
  /** Current source db at receivedOffset. */
  get db(): number {
    return this.stream?.db ?? this.options.resume?.db ?? 0;
  }
  /**
   * The master answered the (renamed) PSYNC command as a legacy SYNC: replid is LEGACY_REPLID and
   * offsets count from 0 at the end of the RDB, so a restart means a new full resync.
   */
  get legacySync(): boolean {
    return this._legacySync;
  }
  /** RDB payload bytes received so far in this session. */
  get rdbBytes(): number {
    return this._rdbBytes;
  }
  /** Bytes read from the socket and not yet decoded (bounded: the socket is paused on backpressure). */
  get bufferedBytes(): number {
    return this.decoder.buffered + (this.socket?.readableLength ?? 0);
  }
  /** The offset REPLCONF ACK reports (see the header comment). */
  get ackOffset(): number {
    return this.appliedOffset ?? this.processedOffset;
  }

  /** The pipeline reports what has been applied on the target; ACKs carry it from now on. */
  setAppliedOffset(offset: number): void {
    if (this.appliedOffset === undefined || offset > this.appliedOffset) this.appliedOffset = offset;
  }

  /**
   * Connects and replicates until close() (resolves) or a failure (rejects with RetryableError —
   * reconnect with a new session and `resume` — or FatalError). Call once.
   */
  run(): Promise<void> {
    this.running ??= this.replicate().finally(() => this.teardown());
    return this.running;
  }

  /** Stops reading, closes the link, and waits for run() to settle. */
  async close(): Promise<void> {
    this.closing = true;
    this.socket?.destroy();
    await this.running?.catch(() => {});
    this.teardown();
  }

  private async replicate(): Promise<void> {
    const { endpoint } = this.options;
    try {
      const socket = await openSocket(endpoint, this.options.connectTimeoutMs ?? 10_000);
      this.socket = socket;
      // Errors surface through the reader below; this listener only keeps them from being unhandled.
      socket.on("error", () => {});
      if (this.closing) return;
      this.reader = socket[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      this.startWatchdog();
      this._phase = "handshake";
      await this.handshake();
      if (await this.psync()) await this.receiveRdb();
      this._phase = "streaming";
      this.sendAck(); // after a diskless transfer the master streams nothing until the first ACK
      this.startAcks();
      await this.receiveStream();
    } catch (err) {
      if (this.closing) return;
      throw this.explain(err);
    }
  }

  private explain(err: unknown): Error {
    if (err instanceof RespProtocolError && this._phase === "handshake") {
      return new FatalError(
        `${this.address} answered with something that is not a Redis reply (not a Redis server?): ${err.message}`,
        "check --source points at a Redis/Valkey port (and TLS matches: rediss:// for TLS)",
        { cause: err },
      );
    }
    if (err instanceof FerryError) return err;
    // A master that drops a replica (client-output-buffer-limit, repl-timeout, CLIENT KILL) closes
    // the socket with our ACKs still unread in its buffer, so the kernel sends RST: a reset after
    // the link was up is the same event as a clean close and must get the same advice.
    if ((this._phase === "snapshot" || this._phase === "streaming") && isConnectionReset(err)) {
      return new RetryableError(
        `${this.address} closed the replication link during ${this._phase} (connection reset)`,
        CLOSED_LINK_ADVICE,
        { cause: err },
      );
    }
    return connectionError(this.options.endpoint, err, `during ${this._phase}`);
  }

  private teardown(): void {
    this._phase = "closed";
    clearInterval(this.ackTimer);
    clearInterval(this.watchdog);
    this.socket?.destroy();
  }

  // ---- socket reading ---------------------------------------------------------------------------

  /** Reads one more chunk into the decoder; a closed link is retryable. */
  private async fill(): Promise<void> {
    this.waitingSince = Date.now();
    const next = await this.reader!.next();
    this.waitingSince = undefined;
    if (next.done) {
      throw new RetryableError(
        `${this.address} closed the replication link during ${this._phase}`,
        CLOSED_LINK_ADVICE,
      );
    }
    this.decoder.push(next.value);
  }

  private startWatchdog(): void {
    const timeoutMs = this.options.readTimeoutMs ?? 60_000;
    this.watchdog = setInterval(
      () => {
        if (this.waitingSince !== undefined && Date.now() - this.waitingSince > timeoutMs) {
          this.socket?.destroy(
            new RetryableError(
              `no data from ${this.address} for ${timeoutMs} ms during ${this._phase}: the link is dead`,
              "ferry reconnects and resumes with PSYNC",
            ),
          );
        }
      },
      Math.min(1000, Math.max(10, timeoutMs / 4)),
    );
    this.watchdog.unref();
  }

  private write(args: Array<string | number | Buffer>): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(encodeCommand(args));
  }

  // ---- handshake --------------------------------------------------------------------------------

  /** Next reply frame, skipping the `\n` keepalives a master sends while it prepares the RDB. */
  private async reply(): Promise<RespValue> {
    for (;;) {
      while (!this.decoder.inFrame && this.decoder.peekByte() === KEEPALIVE) this.decoder.skip(1);
      const frame = this.decoder.buffered > 0 ? this.decoder.next() : NEED_MORE;
      if (frame !== NEED_MORE) return frame.value;
      await this.fill();
    }
  }

  /** First byte of the next reply, after keepalives (waits for one). */
  private async peekReply(): Promise<number> {
    for (;;) {
      while (this.decoder.peekByte() === KEEPALIVE) this.decoder.skip(1);
      const byte = this.decoder.peekByte();
      if (byte !== -1) return byte;
      await this.fill();
    }
  }

  private async command(step: HandshakeStep, args: Array<string | number>): Promise<RespValue> {
    this.write(args);
    const reply = await this.reply();
    if (reply instanceof RespErrorReply) throw handshakeError(step, reply, this.address);
    return reply;
  }

  private async expectOk(step: HandshakeStep, args: Array<string | number>): Promise<void> {
    const reply = await this.command(step, args);
    if (!(reply instanceof RespSimpleString && reply.value === "OK")) throw this.notRedis(step, reply);
  }

  private notRedis(step: string, reply: RespValue): FatalError {
    const shown =
      reply instanceof RespSimpleString ? reply.value : JSON.stringify(String(reply)).slice(0, 80);
    return new FatalError(
      `${this.address} gave an unexpected reply to ${step}: ${shown} (not a Redis server?)`,
      "check --source points at a Redis/Valkey master",
    );
  }

  /**
   * listening-port defaults to 0, which is what a Redis replica with `port 0` announces: "this
   * replica accepts no connections". Redis shows it in INFO/ROLE and logs `<unknown-replica-port>`,
   * and Sentinel lists such a replica but never connects to it (sentinel.c: "port == 0 means
   * invalid address"), so it can never pick ferry for promotion or send it REPLICAOF. A real port
   * (e.g. ferry's status port) would make Sentinel dial an HTTP server as a Redis replica.
   * docs/replication.md says how to recognise ferry instead: the client name below.
   */
  private async handshake(): Promise<void> {
    const { endpoint, listeningPort } = this.options;
    if (endpoint.password !== undefined) {
      const user = endpoint.username ? [endpoint.username] : [];
      await this.expectOk("AUTH", ["AUTH", ...user, endpoint.password]);
    }
    await this.setName();
    await this.expectOk("REPLCONF listening-port", ["REPLCONF", "listening-port", listeningPort ?? 0]);
    await this.expectOk("REPLCONF capa", ["REPLCONF", "capa", "eof", "capa", "psync2"]);
  }

  /**
   * CLIENT SETNAME, so `CLIENT LIST TYPE replica` shows which replica is ferry. Optional: a user
   * limited to the replication commands (+psync +replconf +ping) gets NOPERM, a source with CLIENT
   * renamed away "unknown command" — neither stops the migration. Anything but a reply still does.
   */
  private async setName(): Promise<void> {
    this.write(["CLIENT", "SETNAME", REPLICA_CLIENT_NAME]);
    const reply = await this.reply();
    if (reply instanceof RespErrorReply) return;
    if (!(reply instanceof RespSimpleString && reply.value === "OK"))
      throw this.notRedis("CLIENT SETNAME", reply);
  }

  /** Sends PSYNC; true when a full resync (RDB payload) follows. */
  private async psync(): Promise<boolean> {
    const { resume, psyncCommand } = this.options;
    this.write(
      resume
        ? [psyncCommand ?? "PSYNC", resume.replid, resume.offset + 1]
        : [psyncCommand ?? "PSYNC", "?", -1],
    );
    if ((await this.peekReply()) === DOLLAR) {
      // Redis only runs PSYNC logic when the command is literally named "psync" (replication.c
      // syncCommand); under a rename-command name it serves a legacy SYNC: the RDB payload comes
      // without +FULLRESYNC, so replid and offset are unknown and the stream cannot be resumed.
      this._legacySync = true;
      this._replid = LEGACY_REPLID;
      this.processedOffset = 0;
      this.stream = new CommandStream(0, 0);
      this._phase = "snapshot";
      return true;
    }
    const reply = await this.reply();
    if (reply instanceof RespErrorReply) throw handshakeError("PSYNC", reply, this.address);
    const text = reply instanceof RespSimpleString ? reply.value : "";
    const full = FULLRESYNC.exec(text);
    if (full) {
      const offset = Number(full[2]);
      this._replid = full[1]!;
      this.processedOffset = offset;
      this.stream = new CommandStream(offset, 0);
      this._phase = "snapshot";
      return true;
    }
    const cont = CONTINUE.exec(text);
    if (cont && resume) {
      const replid = cont[1] ?? resume.replid;
      this._replid = replid;
      this.processedOffset = resume.offset;
      this.stream = new CommandStream(resume.offset, resume.db);
      await this.sink.continued({ replid, offset: resume.offset, replidChanged: replid !== resume.replid });
      return false;
    }
    throw this.notRedis("PSYNC", reply);
  }

  // ---- RDB payload ------------------------------------------------------------------------------

  private async receiveRdb(): Promise<void> {
    const header = await this.payloadHeader();
    const diskless = DISKLESS_HEADER.exec(header);
    const disk = DISK_HEADER.exec(header);
    if (!diskless && !disk) {
      throw new FatalError(
        `${this.address} sent an unexpected RDB payload header ${JSON.stringify(header.slice(0, 60))}`,
        "the source is not a compatible Redis/Valkey master",
      );
    }
    const size = disk ? Number(disk[1]) : null;
    await this.sink.fullResync({ replid: this._replid!, offset: this.processedOffset, rdbSize: size });
    if (size !== null) await this.receiveSizedRdb(size);
    else await this.receiveMarkedRdb(Buffer.from(diskless![1]!, "latin1"));
    await this.sink.rdbEnd();
  }

  private async payloadHeader(): Promise<string> {
    for (;;) {
      while (this.decoder.peekByte() === KEEPALIVE) this.decoder.skip(1);
      const line = this.decoder.buffered > 0 ? this.decoder.readLine() : NEED_MORE;
      if (line !== NEED_MORE) return line.toString("latin1");
      await this.fill();
    }
  }

  private async receiveSizedRdb(size: number): Promise<void> {
    let rest = size;
    while (rest > 0) {
      const view = this.decoder.peekRaw();
      if (view === null) {
        await this.fill();
        continue;
      }
      const chunk = view.subarray(0, Math.min(rest, view.length));
      this.decoder.skip(chunk.length);
      rest -= chunk.length;
      this._rdbBytes += chunk.length;
      await this.sink.rdbChunk(chunk);
    }
  }

  private async receiveMarkedRdb(mark: Buffer): Promise<void> {
    if (mark.length !== EOF_MARK_LENGTH) throw new FatalError("diskless RDB mark is not 40 bytes");
    const scanner = new EofMarkScanner(mark);
    for (;;) {
      const view = this.decoder.peekRaw();
      if (view === null) {
        await this.fill();
        continue;
      }
      const scan = scanner.scan(view);
      this.decoder.skip(scan.consumed);
      for (const chunk of scan.payload) {
        this._rdbBytes += chunk.length;
        await this.sink.rdbChunk(chunk);
      }
      if (scan.done) return;
    }
  }

  // ---- command stream ---------------------------------------------------------------------------

  private async receiveStream(): Promise<void> {
    const stream = this.stream!;
    for (;;) {
      // Frames may already be buffered: they can arrive in the same read as +CONTINUE or the RDB's end.
      let batch: Command[] = [];
      const decoder = this.decoder;
      for (;;) {
        const beforeOffset = stream.safeOffset;
        const beforeDb = stream.safeDb;
        let getAck: boolean;
        // Nearly every frame is a command whole in the buffer (scanCommand); the rest — split
        // across reads, or not a plain command array — goes through the generic parser.
        const frame = decoder.scanCommand() ? null : decoder.next();
        if (frame === NEED_MORE) break;
        if (frame === null) {
          getAck = stream.feedScanned(decoder.scanned, batch);
        } else {
          const result = stream.feed(frame);
          getAck = result.getAck;
          for (const command of result.commands) batch.push(command);
        }
        if (getAck) {
          // Everything before the GETACK is processed first, then answered (Redis order). A GETACK
          // releases no command, so the batch holds exactly what came before it.
          await this.deliver(batch, beforeOffset, beforeDb);
          batch = [];
          this.sendAck();
        }
      }
      await this.deliver(batch, stream.safeOffset, stream.safeDb);
      await this.fill();
    }
  }

  /** One sink call per read; also when only no-ops arrived, so the pipeline sees the offset move. */
  private async deliver(batch: Command[], endOffset: number, db: number): Promise<void> {
    if (batch.length === 0 && endOffset === this.processedOffset) return;
    await this.sink.commands(batch, endOffset, db);
    this.processedOffset = endOffset;
  }

  private sendAck(): void {
    this.write(["REPLCONF", "ACK", this.ackOffset]);
  }

  private startAcks(): void {
    this.ackTimer = setInterval(() => this.sendAck(), this.options.ackIntervalMs ?? 1000);
    this.ackTimer.unref();
  }
}

/**
 * The standalone writer's data connection: whole guarded transactions written as ONE buffer each,
 * replies read with core/resp, settled in order.
 *
 * Why not ioredis here: ioredis builds a Command object, a promise, a timeout timer and a socket
 * write per command; a batch of 1000 SETs cost ~1000 of each on the apply path, which the profile
 * showed as the writer's ceiling. One encode + one write + one decoder pass per transaction leaves
 * the target as the limit. Control commands (marker GET, SCAN, emptiness) stay on ioredis.
 *
 * A transaction's commands are independent of the connection's earlier state (each one starts with
 * SELECT and WATCH), so after a lost connection the next send simply opens a new one; whatever was
 * in flight settles as a connection error (retryable) and the markers decide what was applied.
 */
import type { Socket } from "node:net";
import { describeConnectError } from "../connect/client.ts";
import { formatAddress } from "../connect/url.ts";
import { FatalError, RetryableError } from "../errors.ts";
import { openSocket } from "../replication/connect.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { RespDecoder, SIMPLE_OK, SIMPLE_QUEUED } from "../resp/decoder.ts";
import { encodeCommands } from "../resp/encoder.ts";
import { NEED_MORE, RespErrorReply, RespSimpleString, type RespValue } from "../resp/types.ts";
import { CleanArrayReply, type Settled } from "./replies.ts";

export interface TxConnectionOptions {
  /** TCP/TLS connect + AUTH. Default 10 s. */
  connectTimeoutMs?: number;
  /** Replies outstanding and nothing received for this long → the connection is dropped. Default 60 s. */
  replyTimeoutMs?: number;
  /** CLIENT SETNAME. */
  name?: string;
  /**
   * Settle an array reply made only of `+…`/`:…` lines as a CleanArrayReply (its length, values not
   * kept): EXEC's reply to a block of writes, where only errors matter. Default false.
   */
  countCleanArrays?: boolean;
}

/** An error reply, shaped like ioredis' ReplyError so targetErrors.ts classifies both alike. */
export class TargetReplyError extends Error {
  override readonly name = "ReplyError";
}

interface Pending {
  results: Settled[];
  expected: number;
  resolve: (results: Settled[]) => void;
}

/** What a MULTI block's commands and EXEC's elements mostly are: one shared object each. */
const OK: Settled = { ok: true, value: "OK" };
const QUEUED: Settled = { ok: true, value: "QUEUED" };
const QUEUED_LINE = Buffer.from("+QUEUED\r\n");

function toReply(value: RespValue): unknown {
  if (value instanceof RespSimpleString) return value.value;
  if (value instanceof RespErrorReply) return new TargetReplyError(value.message);
  if (Array.isArray(value)) {
    // In place: the decoder's array is ours, and EXEC's can hold thousands of elements.
    for (let i = 0; i < value.length; i++) value[i] = toReply(value[i]!) as RespValue;
    return value;
  }
  return value;
}

function settled(value: RespValue): Settled {
  if (value === SIMPLE_QUEUED) return QUEUED;
  if (value === SIMPLE_OK) return OK;
  const reply = toReply(value);
  return reply instanceof TargetReplyError ? { ok: false, error: reply } : { ok: true, value: reply };
}

export class TxConnection {
  private socket: Socket | null = null;
  private opening: Promise<Socket> | null = null;
  private decoder = new RespDecoder();
  private readonly pending: Pending[] = [];
  private lastData = 0;
  private readonly watchdog: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly endpoint: RedisEndpoint,
    private readonly opts: TxConnectionOptions = {},
  ) {
    const timeout = opts.replyTimeoutMs ?? 60_000;
    this.watchdog = setInterval(
      () => {
        if (this.pending.length > 0 && Date.now() - this.lastData > timeout)
          this.drop(new Error(`no reply from the target within ${timeout} ms`));
      },
      Math.min(timeout, 1000),
    );
    this.watchdog.unref();
  }

  /** Opens the connection now (fails fast on a wrong address or password). */
  async connect(): Promise<void> {
    await this.ensureSocket();
  }

  /**
   * Writes `commands` in one write; resolves (never rejects) with one Settled per command. Calls
   * are written in call order, also while a (re)connect is under way.
   */
  send(commands: Buffer[][]): Promise<Settled[]> {
    return this.sendEncoded(encodeCommands(commands), commands.length);
  }

  /**
   * send() for commands already encoded: `payload` holds `count` commands back to back.
   * `written` runs once the socket no longer needs `payload` (its bytes are in the kernel, or the
   * write failed); never, when the payload was not written at all.
   */
  sendEncoded(payload: Buffer, count: number, written?: () => void): Promise<Settled[]> {
    return new Promise((resolve) => {
      const entry: Pending = { results: [], expected: count, resolve };
      if (this.socket && !this.opening) {
        this.write(entry, payload, written);
        return;
      }
      this.ensureSocket().then(
        () => this.write(entry, payload, written),
        (err: unknown) => resolve(Array.from({ length: count }, () => ({ ok: false as const, error: err }))),
      );
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    this.drop(new Error("writer closed"));
  }

  private write(entry: Pending, payload: Buffer, written?: () => void): void {
    const socket = this.socket;
    if (!socket) {
      entry.resolve(Array.from({ length: entry.expected }, () => ({ ok: false, error: lost() })));
      return;
    }
    if (this.pending.length === 0) this.lastData = Date.now();
    this.pending.push(entry);
    socket.write(payload, written);
  }

  private ensureSocket(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    if (this.closed) return Promise.reject(new RetryableError("the target writer is closed"));
    this.opening ??= this.open().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async open(): Promise<Socket> {
    let socket: Socket;
    try {
      socket = await openSocket(this.endpoint, this.opts.connectTimeoutMs ?? 10_000);
    } catch (err) {
      throw new RetryableError(
        `cannot connect to the target ${this.endpoint.host}:${this.endpoint.port}: ${(err as Error).message}`,
        "check that the target is reachable; ferry retries",
        { cause: err },
      );
    }
    this.decoder = new RespDecoder();
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {}); // "close" follows and settles what is pending
    socket.on("close", () => {
      if (this.socket === socket) this.drop(lost());
    });
    this.socket = socket;
    const hello: Buffer[][] = [];
    const { username, password } = this.endpoint;
    if (password !== undefined)
      hello.push([Buffer.from("AUTH"), ...(username ? [Buffer.from(username)] : []), Buffer.from(password)]);
    if (this.opts.name)
      hello.push([Buffer.from("CLIENT"), Buffer.from("SETNAME"), Buffer.from(this.opts.name)]);
    if (hello.length > 0) {
      const replies = await new Promise<Settled[]>((resolve) => {
        this.write({ results: [], expected: hello.length, resolve }, encodeCommands(hello));
      });
      const auth = password !== undefined ? replies[0] : undefined;
      if (auth && !auth.ok) {
        this.drop(lost());
        throw this.authError(auth.error);
      }
    }
    return socket;
  }

  /**
   * An AUTH refusal gets the same verdict as on the ioredis connections (core/connect): WRONGPASS,
   * NOAUTH, or a password given to a server without one — which ioredis only warns about and
   * accepts, so this connection is where it surfaces. The reply is redacted first: a proxy may echo
   * the password, and the error (with its cause) ends up in logs and job records.
   */
  private authError(error: unknown): unknown {
    if (!(error instanceof TargetReplyError)) return error; // lost during the hello: retryable as is
    const { password } = this.endpoint;
    const reply = new TargetReplyError(password ? error.message.split(password).join("***") : error.message);
    const verdict = describeConnectError([reply], this.endpoint, this.opts.connectTimeoutMs ?? 10_000);
    if (verdict instanceof FatalError) return verdict;
    // describeConnectError's last resort is "retry", but Redis answers AUTH even while loading or
    // busy, so any other refusal of AUTH is one that a retry cannot change.
    return new FatalError(
      `${formatAddress(this.endpoint)} refused AUTH: ${reply.message}`,
      "check the user and password in the target URL (or FERRY_TARGET_USERNAME / FERRY_TARGET_PASSWORD)",
      { cause: reply },
    );
  }

  private onData(chunk: Buffer): void {
    this.lastData = Date.now();
    this.decoder.push(chunk);
    for (;;) {
      const head = this.pending[0];
      if (head) {
        // A MULTI block's replies are mostly `+QUEUED`: skipped as bytes, settled as one shared object.
        const queued = this.decoder.skipRepeated(QUEUED_LINE, head.expected - head.results.length);
        for (let i = 0; i < queued; i++) head.results.push(QUEUED);
        if (queued > 0 && head.results.length === head.expected) {
          this.pending.shift();
          head.resolve(head.results);
          continue;
        }
      }
      // EXEC's reply: usually only +OK / :n lines, of which nothing but their count matters.
      const clean = head && this.opts.countCleanArrays ? this.decoder.skipCleanLineArray() : -1;
      if (clean >= 0 && head) {
        head.results.push({ ok: true, value: new CleanArrayReply(clean) });
        if (head.results.length === head.expected) {
          this.pending.shift();
          head.resolve(head.results);
        }
        continue;
      }
      let frame: ReturnType<RespDecoder["next"]>;
      try {
        frame = this.decoder.next();
      } catch (err) {
        this.drop(err as Error); // not RESP: nothing after this point can be trusted
        return;
      }
      if (frame === NEED_MORE) return;
      const entry = this.pending[0];
      if (!entry) continue; // nothing asked for it (cannot happen without a server bug)
      entry.results.push(settled(frame.value));
      if (entry.results.length === entry.expected) {
        this.pending.shift();
        entry.resolve(entry.results);
      }
    }
  }

  /** Forget the socket; everything pending settles with `error` (a retryable connection error). */
  private drop(error: Error): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    for (const entry of this.pending.splice(0)) {
      while (entry.results.length < entry.expected) entry.results.push({ ok: false, error });
      entry.resolve(entry.results);
    }
  }
}

function lost(): Error {
  return new Error("Connection is closed.");
}

/**
 * Rate-controlled write load on the source, like `redis-benchmark -t set,incr,lpush` but paced:
 * pre-encoded commands written on one raw socket every few ms (whatever is due by then), replies
 * counted and dropped. A probe `SET __bench:probe <send time>` rides in the same stream every
 * `probeEveryMs`, so a replica that shows the probe has applied everything written before it.
 */
import { connect, type Socket } from "node:net";
import { encodeCommand } from "../../core/resp/encoder.ts";
import { intBetween, seeded } from "./random.ts";

export const PROBE_KEY = "__bench:probe";
const TICK_MS = 2;
/** Replies outstanding before the generator waits: the source, not the socket, sets the pace. */
const MAX_OUTSTANDING = 20_000;

export interface LoadStep {
  targetRate: number;
  sent: number;
  seconds: number;
  achievedRate: number;
  /** Bytes of the commands sent, for the replication stream volume. */
  bytes: number;
}

export class LoadGenerator {
  private readonly pool: Buffer[];
  private next = 0;
  private replies = 0;
  private sent = 0;
  private probeSeq = 0;

  private constructor(private readonly socket: Socket) {
    const rng = seeded(99);
    this.pool = Array.from({ length: 4096 }, (_, i) => {
      const kind = i % 3;
      const key = `key:${intBetween(rng, 0, 99_999)}`;
      if (kind === 0) return encodeCommand(["SET", key, "xxx"]);
      if (kind === 1) return encodeCommand(["INCR", `counter:${intBetween(rng, 0, 99_999)}`]);
      return encodeCommand(["LPUSH", `mylist:${intBetween(rng, 0, 99)}`, "xxx"]);
    });
    socket.on("data", (chunk: Buffer) => {
      // Every reply of this mix is one line (+OK, :n).
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.replies++;
    });
  }

  static async connect(port: number): Promise<LoadGenerator> {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.on("error", () => {});
    return new LoadGenerator(socket);
  }

  /** Writes at `rate` commands/s for `seconds`, a probe every `probeEveryMs`. */
  async run(rate: number, seconds: number, probeEveryMs = 10): Promise<LoadStep> {
    const started = performance.now();
    const sentBefore = this.sent;
    let bytes = 0;
    let lastProbe = 0;
    for (;;) {
      const elapsed = performance.now() - started;
      if (elapsed >= seconds * 1000) break;
      const due = Math.floor((rate * elapsed) / 1000) - (this.sent - sentBefore);
      const room = MAX_OUTSTANDING - (this.sent - this.replies);
      const n = Math.max(0, Math.min(due, room));
      if (n > 0) {
        const parts: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const command = this.pool[this.next++ & 4095]!;
          parts.push(command);
          bytes += command.length;
        }
        this.sent += n;
        this.socket.write(Buffer.concat(parts));
      }
      if (elapsed - lastProbe >= probeEveryMs) {
        lastProbe = elapsed;
        this.probe();
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    const took = (performance.now() - started) / 1000;
    const sent = this.sent - sentBefore;
    return { targetRate: rate, sent, seconds: took, achievedRate: sent / took, bytes };
  }

  /** A probe now (outside of run(), e.g. to check that a replica caught up). */
  probe(): void {
    const at = (performance.timeOrigin + performance.now()).toFixed(3);
    this.socket.write(encodeCommand(["SET", PROBE_KEY, `${++this.probeSeq}:${at}`]));
    this.sent++;
  }

  get probes(): number {
    return this.probeSeq;
  }

  /** Waits until the source answered everything sent. */
  async settle(): Promise<void> {
    while (this.replies < this.sent) await new Promise((r) => setTimeout(r, 5));
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A seeded write load for sync tests: many command types, including the non-idempotent ones
 * (INCR, LPUSH, APPEND) whose double application would show as corruption, expiries, deletes,
 * MULTI/EXEC blocks and writes to another db.
 */
import { Redis } from "ioredis";
import { mulberry32 } from "./random.ts";

export interface LoadOptions {
  url: string;
  seed?: number;
  /** Key space size: small keeps collisions (and thus interesting interleavings) frequent. */
  keys?: number;
  /** Pipelined commands per round trip. */
  pipeline?: number;
  /** Extra db to write to with SELECT (default 1; -1 disables). */
  otherDb?: number;
  /** Include FLUSHDB now and then (only in tests that keep FLUSH commands). */
  flushdb?: boolean;
  /**
   * Pause between rounds (default: none, as fast as possible). A round that fails (the source is
   * down in restart tests) is then not counted instead of ending the load.
   */
  everyMs?: number;
}

export interface LoadHandle {
  /** Stop the load; resolves with the number of commands sent. */
  stop(): Promise<number>;
}

type Pipeline = ReturnType<Redis["pipeline"]>;

export function addRandomWrites(
  p: Pipeline,
  rnd: () => number,
  keys: number,
  opts: LoadOptions,
  count: number,
): void {
  const pick = (prefix: string) => `${prefix}:${Math.floor(rnd() * keys)}`;
  const farFuture = Date.now() + 3_600_000;
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.15) p.incr(pick("counter"));
    else if (r < 0.25) p.lpush(pick("list"), `v${Math.floor(rnd() * 1e6)}`);
    else if (r < 0.33) p.append(pick("str"), "ab");
    else if (r < 0.43) p.set(pick("plain"), `value-${rnd()}`);
    else if (r < 0.48) p.pexpireat(pick("plain"), farFuture + Math.floor(rnd() * 1000));
    else if (r < 0.52) p.expire(pick("list"), 3600);
    else if (r < 0.56) p.del(pick("plain"), pick("str"));
    else if (r < 0.64) p.hset(pick("hash"), `f${Math.floor(rnd() * 20)}`, `${rnd()}`);
    else if (r < 0.7) p.sadd(pick("set"), `m${Math.floor(rnd() * 50)}`);
    else if (r < 0.76) p.zadd(pick("zset"), Math.floor(rnd() * 1000) / 7, `m${Math.floor(rnd() * 50)}`);
    else if (r < 0.8) p.xadd(pick("stream"), "*", "f", `${rnd()}`);
    else if (r < 0.86) {
      p.call("MULTI");
      p.incr(pick("counter"));
      p.lpush(pick("list"), "in-tx");
      p.incrby(pick("counter"), 5);
      p.call("EXEC");
    } else if (r < 0.93 && (opts.otherDb ?? 1) >= 0) {
      p.select(opts.otherDb ?? 1);
      p.incr(pick("db1counter"));
      p.rpush(pick("db1list"), "x");
      p.select(0);
    } else if (r < 0.935 && opts.flushdb) {
      p.select(opts.otherDb ?? 1);
      p.flushdb();
      p.select(0);
    } else if (r < 0.97) p.setex(pick("volatile"), 3600, "soon");
    else p.unlink(pick("hash"));
  }
}

/** Start writing in the background until stop() is called. */
export function startLoad(opts: LoadOptions): LoadHandle {
  const client = new Redis(opts.url);
  client.on("error", () => {});
  const rnd = mulberry32(opts.seed ?? 42);
  const keys = opts.keys ?? 200;
  const perRound = opts.pipeline ?? 50;
  let running = true;
  let sent = 0;
  const paced = opts.everyMs !== undefined;
  const loop = (async () => {
    while (running) {
      const p = client.pipeline();
      addRandomWrites(p, rnd, keys, opts, perRound);
      if (!paced) {
        await p.exec();
        sent += perRound;
        await new Promise((r) => setImmediate(r));
        continue;
      }
      // A source that is down fails the round; the writes are simply not made.
      if (await p.exec().catch(() => null)) sent += perRound;
      await new Promise((r) => setTimeout(r, opts.everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      client.disconnect();
      return sent;
    },
  };
}

/** Fill a server with every data type, some TTLs and a second db; deterministic. */
export async function fillDataset(client: Redis, opts: { keys?: number; seed?: number } = {}): Promise<void> {
  const rnd = mulberry32(opts.seed ?? 7);
  const p = client.pipeline();
  addRandomWrites(p, rnd, opts.keys ?? 300, { url: "" }, (opts.keys ?? 300) * 10);
  await p.exec();
}

/**
 * The load helper's write mix (INCR, LPUSH, APPEND, MULTI/EXEC, SELECT 1 …) at a steady rate instead
 * of as fast as possible: on 2 shared cores an unthrottled load starves ferry and the test measures
 * the box, not the resume logic.
 */
import { Redis } from "ioredis";
import { addRandomWrites, type LoadHandle } from "../helpers/load.ts";

export function startSteadyLoad(opts: {
  url: string;
  seed: number;
  keys?: number;
  perRound?: number;
  everyMs?: number;
}): LoadHandle {
  const client = new Redis(opts.url);
  client.on("error", () => {});
  let a = opts.seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const perRound = opts.perRound ?? 20;
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      const p = client.pipeline();
      addRandomWrites(p, rnd, opts.keys ?? 150, { url: opts.url }, perRound);
      // A source that is down (restart tests) fails the round; the writes are simply not made.
      const results = await p.exec().catch(() => null);
      if (results) sent += perRound;
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 10));
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

/**
 * The load helper's write mix (INCR, LPUSH, APPEND, MULTI/EXEC, SELECT 1 …) at a steady rate instead
 * of as fast as possible: on 2 shared cores an unthrottled load starves ferry and the test measures
 * the box, not the resume logic. A round the source cannot take (it is down) is not counted.
 */
import { type LoadHandle, startLoad } from "../helpers/load.ts";

export function startSteadyLoad(opts: {
  url: string;
  seed: number;
  keys?: number;
  perRound?: number;
  everyMs?: number;
}): LoadHandle {
  return startLoad({
    url: opts.url,
    seed: opts.seed,
    keys: opts.keys ?? 150,
    pipeline: opts.perRound ?? 20,
    everyMs: opts.everyMs ?? 10,
  });
}

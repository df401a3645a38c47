/**
 * Memory bound, per value type: one big, highly compressible key of each type (string, hash, set,
 * zset, stream, list) alone in a source, copied by `ferry sync --until-synced`. Compressible values
 * are the hard case: the RDB holds them LZF-compressed, so a few MB of snapshot expand into the
 * whole value inside ferry, and only the parser's output budget and the big-key threshold keep that
 * from being held at once (core/rdb/parser.ts, docs/rdb.md).
 */
import type { Redis } from "ioredis";
import { startRedis } from "../test/helpers/redis.ts";
import type { Row } from "./lib/report.ts";
import { fmt } from "./lib/report.ts";
import { type FerrySnapshotFigures, ferrySnapshot, rdbSize } from "./snapshot.ts";

export const BIG_KEY_TYPES = ["string", "list", "hash", "set", "zset", "stream"] as const;
type BigKeyType = (typeof BIG_KEY_TYPES)[number];

/** Writes ~`bytes` of 1000-byte, compressible elements under key `big` as `type`. */
async function fillBigKey(client: Redis, type: BigKeyType, bytes: number): Promise<void> {
  const elements = Math.ceil(bytes / 1000);
  for (let i = 0; i < elements; i += 1000) {
    const pipe = client.pipeline();
    for (let j = i; j < Math.min(elements, i + 1000); j++) {
      // Unique (sets, hashes, zsets need distinct members), and ~50× compressible.
      const value = `${j}:${String.fromCharCode(97 + (j % 26)).repeat(990)}`;
      if (type === "string") pipe.append("big", value);
      else if (type === "list") pipe.rpush("big", value);
      else if (type === "hash") pipe.hset("big", `f${j}`, value);
      else if (type === "set") pipe.sadd("big", value);
      else if (type === "zset") pipe.zadd("big", j, value);
      else pipe.xadd("big", "*", "f", value);
    }
    await pipe.exec();
  }
}

export interface BigKeyFigures {
  type: BigKeyType;
  usedBytes: number;
  rdbBytes: number;
  ferry: FerrySnapshotFigures;
}

export async function bigKeyScenario(opts: {
  bytes: number;
  ferryArgs: string[];
  peakGoal: number;
  log: (s: string) => void;
}): Promise<{ rows: Row[]; json: BigKeyFigures[] }> {
  const json: BigKeyFigures[] = [];
  const rows: Row[] = [];
  for (const type of BIG_KEY_TYPES) {
    const source = await startRedis();
    try {
      await fillBigKey(source.client(), type, opts.bytes);
      const usedBytes = Number(await source.client().memory("USAGE", "big"));
      const rdbBytes = await rdbSize(source);
      const ferry = await ferrySnapshot(source, rdbBytes, opts.ferryArgs);
      opts.log(
        `  ${type}: ${fmt.mib(usedBytes)} in memory, ${fmt.mib(rdbBytes)} of RDB → ferry ${fmt.s(ferry.seconds)}, peak RSS ${fmt.mib(ferry.peakRssBytes)}, match ${ferry.keysMatch}`,
      );
      json.push({ type, usedBytes, rdbBytes, ferry });
      rows.push({
        figure: `one ${fmt.mib(usedBytes)} ${type} (${fmt.mib(rdbBytes)} RDB): peak RSS`,
        ferry: fmt.mib(ferry.peakRssBytes),
        native: "",
        ratio: "",
        goal: `≤ ${fmt.mib(opts.peakGoal)}`,
        met: ferry.peakRssBytes <= opts.peakGoal && ferry.keysMatch && ferry.diskWriteBytes === 0,
      });
    } finally {
      await source.stop();
    }
  }
  return { rows, json };
}

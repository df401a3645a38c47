import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRdbParser } from "../../core/rdb/parser.ts";
import type { RdbEvent, RdbParserOptions } from "../../core/rdb/types.ts";

export const CORPUS = join(import.meta.dirname, "../fixtures/rdb-corpus");

/** Every .rdb of the corpus as [folder/name, bytes]. */
export function corpusFiles(): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  for (const folder of ["generated", "redis-rdb-tools", "valkey-tests"]) {
    for (const name of readdirSync(join(CORPUS, folder)).sort()) {
      if (name.endsWith(".rdb")) out.push([`${folder}/${name}`, readFileSync(join(CORPUS, folder, name))]);
    }
  }
  return out;
}

export const CORRUPT_FILES = new Set(["valkey-tests/corrupt_ziplist.rdb"]);

/** Parses `bytes` fed in pieces whose sizes `nextSize` picks; returns every event. */
export function parseEvents(
  bytes: Buffer,
  options: RdbParserOptions = {},
  nextSize: () => number = () => bytes.length,
): RdbEvent[] {
  const events: RdbEvent[] = [];
  const parser = createRdbParser(options, (e) => events.push(e));
  let at = 0;
  while (at < bytes.length) {
    const n = Math.max(1, nextSize());
    parser.write(bytes.subarray(at, at + n));
    at += n;
  }
  parser.end();
  return events;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export { mulberry32 as rng } from "../helpers/random.ts";

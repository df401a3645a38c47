/**
 * The mixed snapshot dataset: strings, hashes, lists, sets (intset and hashtable), sorted sets and
 * streams from a seeded generator, a tenth of the keys with a TTL, plus a few big keys of every
 * collection type. The shares are a table so a reader sees the mix at a glance.
 */
import type { Redis } from "ioredis";
import { intBetween, noise, type Rng, seeded, slice } from "./random.ts";

export const SIZES = {
  default: { keys: 300_000, bigKeyElements: 100_000 },
  large: { keys: 1_000_000, bigKeyElements: 400_000 },
} as const;
export type SizeName = keyof typeof SIZES;

/** Share of keys per type (cumulative order matters only for the draw). */
const MIX = [
  { type: "string", share: 0.5 },
  { type: "hash", share: 0.15 },
  { type: "list", share: 0.12 },
  { type: "set", share: 0.1 },
  { type: "zset", share: 0.1 },
  { type: "stream", share: 0.03 },
] as const;
type KeyType = (typeof MIX)[number]["type"];

const TTL_SHARE = 0.1;
const PIPELINE = 1000;

export interface DatasetInfo {
  keys: number;
  bigKeys: number;
  perType: Record<KeyType, number>;
  usedMemoryBytes: number;
  fillSeconds: number;
}

function pickType(rng: Rng): KeyType {
  let x = rng();
  for (const entry of MIX) {
    x -= entry.share;
    if (x < 0) return entry.type;
  }
  return "string";
}

type Pipe = ReturnType<Redis["pipeline"]>;

function addKey(pipe: Pipe, rng: Rng, pool: Buffer, i: number, type: KeyType): void {
  const key = `${type}:${i}`;
  switch (type) {
    case "string":
      pipe.set(key, slice(rng, pool, intBetween(rng, 50, 700)));
      break;
    case "hash": {
      const args: Buffer[] = [];
      for (let f = intBetween(rng, 5, 30); f > 0; f--)
        args.push(Buffer.from(`field${f}`), slice(rng, pool, intBetween(rng, 10, 60)));
      pipe.hset(key, ...args);
      break;
    }
    case "list": {
      const items: Buffer[] = [];
      for (let n = intBetween(rng, 5, 40); n > 0; n--) items.push(slice(rng, pool, intBetween(rng, 10, 80)));
      pipe.rpush(key, ...items);
      break;
    }
    case "set": {
      const ints = rng() < 0.3;
      const members: Array<Buffer | string> = [];
      for (let n = intBetween(rng, 5, 40); n > 0; n--)
        members.push(ints ? String(intBetween(rng, 0, 1e9)) : slice(rng, pool, intBetween(rng, 8, 40)));
      pipe.sadd(key, ...members);
      break;
    }
    case "zset": {
      const args: Array<Buffer | string> = [];
      for (let n = intBetween(rng, 5, 40); n > 0; n--)
        args.push(String(Math.floor(rng() * 1e6) / 100), slice(rng, pool, intBetween(rng, 8, 40)));
      pipe.zadd(key, ...args);
      break;
    }
    case "stream":
      for (let n = intBetween(rng, 3, 20); n > 0; n--)
        pipe.xadd(key, "*", "sensor", String(intBetween(rng, 0, 999)), "reading", slice(rng, pool, 32));
      break;
  }
  if (rng() < TTL_SHARE) pipe.expire(key, 86_400 + intBetween(rng, 0, 86_400));
}

/** A few big keys, one per collection type, each `elements` long (chunked by ferry above its threshold). */
async function addBigKeys(client: Redis, rng: Rng, pool: Buffer, elements: number): Promise<number> {
  const step = 500;
  for (let i = 0; i < elements; i += step) {
    const pipe = client.pipeline();
    const hash: Buffer[] = [];
    const list: Buffer[] = [];
    const set: Buffer[] = [];
    const zset: Array<Buffer | string> = [];
    for (let j = i; j < Math.min(i + step, elements); j++) {
      hash.push(Buffer.from(`f${j}`), slice(rng, pool, 100));
      list.push(slice(rng, pool, 100));
      set.push(Buffer.from(`member:${j}:${intBetween(rng, 0, 1e9)}`));
      zset.push(String(j), Buffer.from(`member:${j}`));
    }
    pipe.hset("big:hash", ...hash);
    pipe.rpush("big:list", ...list);
    pipe.sadd("big:set", ...set);
    pipe.zadd("big:zset", ...zset);
    await pipe.exec();
  }
  return 4;
}

export async function fillDataset(
  client: Redis,
  keys: number,
  bigKeyElements: number,
  seed = 1,
): Promise<DatasetInfo> {
  const started = performance.now();
  const rng = seeded(seed);
  const pool = noise(rng);
  const perType = { string: 0, hash: 0, list: 0, set: 0, zset: 0, stream: 0 } as Record<KeyType, number>;
  for (let i = 0; i < keys; i += PIPELINE) {
    const pipe = client.pipeline();
    for (let j = i; j < Math.min(i + PIPELINE, keys); j++) {
      const type = pickType(rng);
      perType[type]++;
      addKey(pipe, rng, pool, j, type);
    }
    await pipe.exec();
  }
  const bigKeys = await addBigKeys(client, rng, pool, bigKeyElements);
  const memory = await client.info("memory");
  return {
    keys: keys + bigKeys,
    bigKeys,
    perType,
    usedMemoryBytes: Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0),
    fillSeconds: (performance.now() - started) / 1000,
  };
}

/** One big list of `bytes` (1000-byte random elements) for the memory-bound scenario. */
export async function addBigList(client: Redis, key: string, bytes: number, seed = 7): Promise<number> {
  const rng = seeded(seed);
  const pool = noise(rng);
  const elements = Math.ceil(bytes / 1000);
  for (let i = 0; i < elements; i += 5000) {
    const pipe = client.pipeline();
    for (let j = i; j < Math.min(i + 5000, elements); j += 250) {
      const batch: Buffer[] = [];
      for (let k = j; k < Math.min(j + 250, elements); k++) batch.push(slice(rng, pool, 1000));
      pipe.rpush(key, ...batch);
    }
    await pipe.exec();
  }
  return elements;
}

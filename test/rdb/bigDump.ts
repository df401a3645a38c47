import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { Crc64 } from "../../core/rdb/crc64.ts";
import { createRdbParser } from "../../core/rdb/parser.ts";
import type { RdbParserOptions } from "../../core/rdb/types.ts";
import type { RedisProc } from "../helpers/redis.ts";
import { rng } from "./helpers.ts";

/**
 * A dump with one big list and one big string, written by a real server (pipelined RPUSH/APPEND,
 * then SAVE), shared by test/rdb/memory.test.ts (small) and bench/rdb-big.ts (200 MB + 100 MB).
 */
export interface BigDump {
  path: string;
  listElements: number;
  firstElement: Buffer;
  lastElement: Buffer;
  stringBytes: number;
  stringCrc: bigint;
}

const ELEMENT_BYTES = 1000;

export async function buildBigDump(
  server: RedisProc,
  listBytes: number,
  stringBytes: number,
): Promise<BigDump> {
  const client = server.client();
  const random = rng(42);
  // Random bytes so LZF gives up and the value stays as large in the RDB as in memory.
  const noise = Buffer.from(Array.from({ length: 1 << 20 }, () => Math.floor(random() * 256)));
  const element = (i: number): Buffer => {
    const at = (i * 7919) % (noise.length - ELEMENT_BYTES);
    const out = Buffer.from(noise.subarray(at, at + ELEMENT_BYTES));
    out.write(`${i}:`, 0, "latin1");
    return out;
  };
  const listElements = Math.ceil(listBytes / ELEMENT_BYTES);
  for (let i = 0; i < listElements; i += 2000) {
    const pipeline = client.pipeline();
    for (let j = i; j < Math.min(i + 2000, listElements); j += 100) {
      const batch: Buffer[] = [];
      for (let k = j; k < Math.min(j + 100, listElements); k++) batch.push(element(k));
      pipeline.rpush("big:list", ...batch);
    }
    await pipeline.exec();
  }
  const crc = new Crc64();
  for (let done = 0; done < stringBytes; ) {
    const pipeline = client.pipeline();
    for (let k = 0; k < 16 && done < stringBytes; k++) {
      const piece = noise.subarray(0, Math.min(noise.length, stringBytes - done));
      piece[0] = done & 0xff;
      crc.update(piece);
      pipeline.append("big:string", Buffer.from(piece));
      done += piece.length;
    }
    await pipeline.exec();
  }
  await client.set("small", "after the big keys");
  await client.call("SAVE");
  client.disconnect();
  return {
    path: join(server.dir, "dump.rdb"),
    listElements,
    firstElement: element(0),
    lastElement: element(listElements - 1),
    stringBytes,
    stringCrc: crc.digest(),
  };
}

export interface BigParseResult {
  listElements: number;
  firstElement: Buffer | undefined;
  lastElement: Buffer | undefined;
  stringBytes: number;
  stringCrc: bigint;
  maxChunkItemsBytes: number;
  smallKeys: number;
  fileBytes: number;
  seconds: number;
  /** Peak of heapUsed + arrayBuffers during the parse, in bytes. */
  peakMemory: number;
}

/** Parses the file read in `feedBytes` pieces, sampling memory at every event. */
export function parseBigDump(path: string, options: RdbParserOptions, feedBytes: number): BigParseResult {
  const r: BigParseResult = {
    listElements: 0,
    firstElement: undefined,
    lastElement: undefined,
    stringBytes: 0,
    stringCrc: 0n,
    maxChunkItemsBytes: 0,
    smallKeys: 0,
    fileBytes: 0,
    seconds: 0,
    peakMemory: 0,
  };
  const crc = new Crc64();
  const sample = (): void => {
    const m = process.memoryUsage();
    r.peakMemory = Math.max(r.peakMemory, m.heapUsed + m.arrayBuffers);
  };
  const parser = createRdbParser(options, (e) => {
    if (e.kind === "key-chunk") {
      if (e.chunk.type === "list") {
        r.firstElement ??= e.chunk.value[0];
        r.lastElement = e.chunk.value.at(-1);
        r.listElements += e.chunk.value.length;
        r.maxChunkItemsBytes = Math.max(
          r.maxChunkItemsBytes,
          e.chunk.value.reduce((n, b) => n + b.length, 0),
        );
      } else if (e.chunk.type === "string") {
        r.stringBytes += e.chunk.value.length;
        crc.update(e.chunk.value);
      }
      if ((r.listElements & 255) === 0) sample();
    } else if (e.kind === "key") {
      r.smallKeys++;
    }
  });
  const fd = openSync(path, "r");
  const started = performance.now();
  try {
    for (;;) {
      const chunk = Buffer.allocUnsafe(feedBytes);
      const n = readSync(fd, chunk, 0, feedBytes, null);
      if (n === 0) break;
      r.fileBytes += n;
      parser.write(chunk.subarray(0, n));
      sample();
    }
    parser.end();
  } finally {
    closeSync(fd);
  }
  r.seconds = (performance.now() - started) / 1000;
  r.stringCrc = crc.digest();
  return r;
}

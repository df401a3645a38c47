import { afterAll, beforeAll, expect, it } from "vitest";
import type { Batch, Command } from "../../core/model.ts";
import { createStandaloneWriter, type StandaloneWriter } from "../../core/writer/standalone.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const REPLID = "b".repeat(40);
const BATCHES = 60;
const PER_BATCH = 1000;

let target: RedisProc;
let writer: StandaloneWriter;

beforeAll(async () => {
  target = await startRedis();
  writer = await createStandaloneWriter({ target: { host: target.host, port: target.port } });
});
afterAll(async () => {
  await writer?.close();
  await target?.stop();
});

it("applies SET-sized commands in batches of 1000 at a useful rate, exactly once", async () => {
  const value = Buffer.alloc(64, "v");
  const batches: Batch[] = [];
  let offset = 0;
  for (let b = 0; b < BATCHES; b++) {
    const commands: Command[] = [];
    for (let i = 0; i < PER_BATCH; i++) {
      offset += 40;
      commands.push({ argv: [Buffer.from("SET"), Buffer.from(`key:${b}:${i}`), value], db: 0, offset });
    }
    batches.push({
      job: "bench",
      shard: "standalone",
      replid: REPLID,
      kind: "stream",
      first: commands[0]!.offset,
      last: offset,
      commands,
      bytes: PER_BATCH * 100,
    });
  }
  const started = performance.now();
  const results = await Promise.all(batches.map((b) => writer.apply(b)));
  const seconds = (performance.now() - started) / 1000;
  const opsPerSecond = Math.round((BATCHES * PER_BATCH) / seconds);
  process.stdout.write(
    `standalone writer: ${BATCHES * PER_BATCH} SETs in ${seconds.toFixed(2)} s = ${opsPerSecond} ops/s\n`,
  );

  expect(results.reduce((sum, r) => sum + r.applied, 0)).toBe(BATCHES * PER_BATCH);
  const client = target.client();
  expect(await client.dbsize()).toBe(BATCHES * PER_BATCH + 1); // + the marker
  expect(await client.get("__ferry:bench:standalone")).toBe(`${REPLID}:${offset}:0`);
  // A floor far below what a 2-core CI box does, to catch a lost pipeline (one round trip per command).
  expect(opsPerSecond).toBeGreaterThan(10_000);
});

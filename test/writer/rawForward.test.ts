import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Batch } from "../../core/model.ts";
import { encodeCommand } from "../../core/resp/encoder.ts";
import type { RawCommand } from "../../core/resp/raw.ts";
import { createStandaloneWriter, type StandaloneWriter } from "../../core/writer/standalone.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const B = (s: string): Buffer => Buffer.from(s);

function streamBatch(commands: RawCommand[]): Batch {
  return {
    job: "raw",
    shard: "s1",
    replid: "a".repeat(40),
    kind: "stream",
    first: commands[0]!.offset,
    last: commands[commands.length - 1]!.offset,
    commands,
    bytes: 100,
  };
}

describe("standalone writer: source bytes forwarded verbatim", () => {
  let target: RedisProc;
  let client: Redis;
  let writer: StandaloneWriter;

  beforeAll(async () => {
    target = await startRedis();
    client = target.client();
    writer = await createStandaloneWriter({ target: { host: target.host, port: target.port } });
  });
  afterAll(async () => {
    await writer?.close();
    await target?.stop();
  });

  it("sends a command's raw frame instead of re-encoding argv, and argv when raw no longer matches it", async () => {
    const commands: RawCommand[] = [
      // raw of the same encoded length as argv: the raw bytes are what the target executes
      { argv: [B("SET"), B("k1"), B("argv")], db: 0, offset: 10, raw: encodeCommand(["SET", "k1", "raw!"]) },
      // raw of another length (argv rewritten after it was received): ignored, argv is sent
      {
        argv: [B("SET"), B("k2"), B("argv")],
        db: 2,
        offset: 20,
        raw: encodeCommand(["SET", "k2", "stale-raw"]),
      },
      // no raw: encoded from argv
      { argv: [B("RPUSH"), B("l"), B("a"), B("b")], db: 0, offset: 30 },
    ];
    const result = await writer.apply(streamBatch(commands));
    expect(result.applied).toBe(3);
    expect(await client.get("k1")).toBe("raw!");
    expect(await client.lrange("l", 0, -1)).toEqual(["a", "b"]);
    await client.select(2);
    expect(await client.get("k2")).toBe("argv");
    await client.select(0);
    // Redelivered: the marker still drops it (exactly-once does not depend on how it was encoded).
    const again = await writer.apply(streamBatch(commands));
    expect(again).toMatchObject({ applied: 0, skipped: 3 });
    expect(await client.lrange("l", 0, -1)).toEqual(["a", "b"]);
  });
});

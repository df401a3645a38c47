import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLOT_COUNT, slotOf, slotTag } from "../../core/cluster/slots.ts";
import { type RedisClusterProc, startCluster } from "../helpers/redis.ts";

describe("slotOf matches CLUSTER KEYSLOT", () => {
  let cluster: RedisClusterProc;
  let node: Redis;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
    node = cluster.nodes[0]!.client();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("for random binary keys and hash-tag edge cases", async () => {
    const keys: Buffer[] = [];
    for (let i = 0; i < 1500; i++) keys.push(randomBytes(1 + (i % 40)));
    // Hash tag rules: first "{" then the first "}" after it; empty tag or no "}" hashes the whole key.
    for (const text of [
      "{user1000}.following",
      "foo{}{bar}",
      "foo{{bar}}zap",
      "foo{bar}{zap}",
      "{",
      "}{",
      "{}",
      "a{b",
      "{a}",
    ]) {
      keys.push(Buffer.from(text));
    }
    for (let i = 0; i < 300; i++)
      keys.push(
        Buffer.concat([
          randomBytes(i % 5),
          Buffer.from("{"),
          randomBytes(i % 4),
          Buffer.from("}"),
          randomBytes(3),
        ]),
      );
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.cluster("KEYSLOT", key);
    const replies = (await pipeline.exec())!;
    const mismatches = keys.filter((key, i) => slotOf(key) !== replies[i]![1]);
    expect(mismatches).toEqual([]);
  });

  it("slotTag gives a tag for every slot that hashes to it", async () => {
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const tag = slotTag(slot);
      expect(tag.length).toBeLessThanOrEqual(3);
      expect(slotOf(`__ferry:{${tag}}job:shard`)).toBe(slot);
    }
    // and the server agrees on a sample
    for (const slot of [0, 1, 5460, 5461, 12182, 16383]) {
      expect(await node.cluster("KEYSLOT", `__ferry:{${slotTag(slot)}}job:shard`)).toBe(slot);
    }
  });
});

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { startCluster, startRedis } from "./redis.ts";

describe("test harness", () => {
  it("starts a standalone server with a password, writes and reads, and cleans up", async () => {
    const redis = await startRedis({ password: "s3cret" });
    const client = redis.client();
    await client.set("k", "v");
    expect(await client.get("k")).toBe("v");
    const pid = redis.pid();
    await redis.stop();
    expect(existsSync(redis.dir)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it("starts a replica that follows its master", async () => {
    const master = await startRedis();
    const replica = await startRedis({ replicaOf: master });
    try {
      await master.client().set("x", "1");
      const rc = replica.client();
      await expect.poll(() => rc.get("x"), { timeout: 10_000 }).toBe("1");
    } finally {
      await replica.stop();
      await master.stop();
    }
  });

  it("starts a 3-master cluster, routes writes to every master, and cleans up", async () => {
    const cluster = await startCluster({ masters: 3 });
    const client = cluster.client();
    for (let i = 0; i < 30; i++) await client.set(`key:${i}`, String(i));
    for (let i = 0; i < 30; i++) expect(await client.get(`key:${i}`)).toBe(String(i));
    const perNode = await Promise.all(cluster.nodes.map((n) => n.client().dbsize()));
    expect(perNode.every((n) => n > 0)).toBe(true);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(30);
    const dirs = cluster.nodes.map((n) => n.dir);
    await cluster.stop();
    expect(dirs.some(existsSync)).toBe(false);
  });
});

import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectRedis,
  detectTopology,
  parseClusterNodes,
  parseRedisUrl,
  redactUrl,
} from "../../core/connect/index.ts";
import { BadInputError, FatalError, RetryableError } from "../../core/errors.ts";
import {
  freePort,
  type RedisClusterProc,
  type RedisProc,
  startCluster,
  startRedis,
} from "../helpers/redis.ts";

describe("parseRedisUrl", () => {
  it("parses user, password, host, port, db and TLS", () => {
    expect(parseRedisUrl("rediss://alice:s%40cret@cache.example:6380/3")).toEqual({
      host: "cache.example",
      port: 6380,
      username: "alice",
      password: "s@cret",
      db: 3,
      tlsEnabled: true,
      tls: { servername: "cache.example" },
    });
    expect(parseRedisUrl("redis://127.0.0.1")).toEqual({ host: "127.0.0.1", port: 6379, tlsEnabled: false });
    expect(parseRedisUrl("redis://[::1]:7000").host).toBe("::1");
  });

  it("takes credentials from the role's env vars when the URL has none", () => {
    const env = { FERRY_SOURCE_PASSWORD: "pw", FERRY_SOURCE_USERNAME: "bob", FERRY_TARGET_PASSWORD: "other" };
    const parsed = parseRedisUrl("redis://h:1", { role: "source", env });
    expect(parsed.username).toBe("bob");
    expect(parsed.password).toBe("pw");
    expect(parseRedisUrl("redis://:inurl@h:1", { role: "target", env }).password).toBe("inurl");
  });

  it.each([
    ["localhost:6379", /missing scheme/],
    ["http://h:1", /unsupported scheme/],
    ["redis://h:99999", /not a valid Redis URL|invalid port/],
    ["redis://h:1/abc", /invalid db/],
    ["redis://h:1/0?tls=1", /unexpected query/],
    ["", /empty/],
  ])("rejects %s with a BadInputError", (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(BadInputError);
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it("never echoes the password in errors", () => {
    try {
      parseRedisUrl("redis://u:topsecret@h:1/x");
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain("topsecret");
      expect((err as Error).message).toContain("***");
    }
    expect(redactUrl("redis://u:p@ss@h:1/0")).toBe("redis://u:***@h:1/0");
    expect(redactUrl("redis://:pw@h")).toBe("redis://:***@h");
    expect(redactUrl("redis://h:6379/0")).toBe("redis://h:6379/0");
  });
});

describe("connectRedis errors", () => {
  let redis: RedisProc;
  let junk: Server;
  let silent: Server;
  const ports = { junk: 0, silent: 0 };
  beforeAll(async () => {
    redis = await startRedis({ aclUsers: ["alice on >right ~* &* +@all"] });
    junk = createServer((s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    silent = createServer(() => {});
    ports.junk = await freePort();
    ports.silent = await freePort();
    await new Promise<void>((r) => junk.listen(ports.junk, "127.0.0.1", r));
    await new Promise<void>((r) => silent.listen(ports.silent, "127.0.0.1", r));
  });
  afterAll(async () => {
    await redis?.stop();
    junk?.close();
    silent?.close();
  });

  it("connects and answers", async () => {
    const client = await connectRedis({
      host: "127.0.0.1",
      port: redis.port,
      username: "alice",
      password: "right",
    });
    expect(await client.ping()).toBe("PONG");
    client.disconnect();
  });

  it("ECONNREFUSED → cannot reach", async () => {
    const port = await freePort();
    const err = await connectRedis({ host: "127.0.0.1", port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toBe(`cannot reach 127.0.0.1:${port} — is Redis running there?`);
  });

  it("WRONGPASS → wrong password for user", async () => {
    const err = await connectRedis({
      host: "127.0.0.1",
      port: redis.port,
      username: "alice",
      password: "nope",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toBe(`wrong password for user alice at 127.0.0.1:${redis.port}`);
  });

  it("a non-Redis port → does not speak the Redis protocol", async () => {
    const err = await connectRedis({ host: "127.0.0.1", port: ports.junk }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`127.0.0.1:${ports.junk} does not speak the Redis protocol`);
  });

  it("a silent port → timeout", async () => {
    const err = await connectRedis(
      { host: "127.0.0.1", port: ports.silent },
      { connectTimeoutMs: 300 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/no answer from 127\.0\.0\.1:\d+ within/);
  });
});

describe("detectTopology", () => {
  let cluster: RedisClusterProc;
  let standalone: RedisProc;
  beforeAll(async () => {
    [cluster, standalone] = await Promise.all([startCluster({ masters: 3 }), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([cluster?.stop(), standalone?.stop()]);
  });

  it("standalone", async () => {
    const client = await connectRedis({ host: "127.0.0.1", port: standalone.port });
    expect(await detectTopology(client, { host: "127.0.0.1", port: standalone.port })).toEqual({
      kind: "standalone",
    });
    client.disconnect();
  });

  it("cluster: every master with its slots, credentials inherited", async () => {
    const node = cluster.nodes[1]!;
    const client = await connectRedis({ host: "127.0.0.1", port: node.port });
    const topology = await detectTopology(client, { host: "127.0.0.1", port: node.port, password: "x" });
    client.disconnect();
    if (topology.kind !== "cluster") throw new Error("expected a cluster");
    expect(topology.masters.map((m) => m.endpoint.port).sort()).toEqual(
      cluster.nodes.map((n) => n.port).sort(),
    );
    expect(topology.masters.every((m) => m.endpoint.password === "x")).toBe(true);
    const slots = topology.masters.flatMap((m) => m.slots).sort((a, b) => a[0] - b[0]);
    expect(slots[0]![0]).toBe(0);
    expect(slots.at(-1)![1]).toBe(16383);
  });

  it("CLUSTER NODES fallback parser (Redis < 7)", () => {
    const text =
      "e7d1 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 [5461->-abc]\n" +
      "a1b2 127.0.0.1:30002@40002,host2 master - 0 0 2 connected 5461-10922 10923\n" +
      "c3d4 127.0.0.1:30003@40003 slave e7d1 0 0 1 connected\n";
    expect(parseClusterNodes(text)).toEqual([
      { id: "e7d1", host: "127.0.0.1", port: 30001, slots: [[0, 5460]] },
      {
        id: "a1b2",
        host: "127.0.0.1",
        port: 30002,
        slots: [
          [5461, 10922],
          [10923, 10923],
        ],
      },
    ]);
  });
});

/**
 * connectRedis({ longLived: true }) against a real redis-server that is killed and restarted:
 * in-flight commands fail at once instead of waiting for the command timeout, the client outlives a
 * 5 s outage, and a proxy that accepts while the server is down does not wedge it.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis } from "../../core/connect/client.ts";
import { type RedisProc, sleep, startRedis, waitFor } from "../helpers/redis.ts";

/** Settles within `ms`? Resolves to the outcome, or "pending". */
async function outcomeWithin(promise: Promise<unknown>, ms: number): Promise<string> {
  const outcome = promise.then(
    () => "resolved",
    (err: Error) => `rejected: ${err.message}`,
  );
  return Promise.race([outcome, sleep(ms).then(() => "pending")]);
}

describe("connectRedis longLived", () => {
  let redis: RedisProc;
  const clients: Redis[] = [];
  const endpoint = () => ({ host: redis.host, port: redis.port });

  beforeAll(async () => {
    redis = await startRedis({ config: { "enable-debug-command": "yes" } });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it("fails a command in flight when the server dies; the plain client waits for its timeout", async () => {
    const longLived = await connectRedis(endpoint(), { longLived: true });
    const plain = await connectRedis(endpoint(), { commandTimeoutMs: 4000 });
    // Resending off, as the writer needs it: ioredis then drops in-flight commands on reconnect.
    for (const c of [longLived, plain]) c.options.autoResendUnfulfilledCommands = false;
    clients.push(longLived, plain);
    const sleeper = redis.client();
    sleeper.options.autoResendUnfulfilledCommands = false; // must not block the restarted server
    void sleeper.call("DEBUG", "SLEEP", "3").catch(() => {});
    await sleep(100); // the server is now busy: both GETs below stay in flight
    const inFlight = longLived.get("k");
    const plainInFlight = plain.get("k");
    inFlight.catch(() => {});
    plainInFlight.catch(() => {});
    await sleep(100);
    const killedAt = Date.now();
    await redis.kill9();
    expect(await outcomeWithin(inFlight, 1000)).toBe("rejected: Connection is closed");
    expect(Date.now() - killedAt).toBeLessThan(1000);
    await redis.restart();
    // The pitfall guarded against: the plain client reconnected and forgot its command.
    await waitFor(async () => (await plain.ping()) === "PONG", 5000);
    expect(await outcomeWithin(plainInFlight, 500)).toBe("pending");
    // Both recover; the long-lived one right after the restart.
    await waitFor(async () => (await longLived.ping()) === "PONG", 3000);
  });

  it("recovers after a 5 s outage, failing commands sent meanwhile instead of queuing them", async () => {
    const longLived = await connectRedis(endpoint(), { longLived: true });
    const plain = await connectRedis(endpoint());
    clients.push(longLived, plain);
    await longLived.set("k", "before");
    await redis.stop({ keepDir: true });
    await sleep(1000);
    const sentDuringOutage = longLived.get("k");
    expect(await outcomeWithin(sentDuringOutage, 2500)).toBe("rejected: Connection is closed");
    await sleep(4000);
    // connectRedis' default (5 reconnects, ~3 s) has given up for good by now.
    expect(plain.status).toBe("end");
    expect(longLived.status).not.toBe("end");
    await redis.restart();
    const healedAt = Date.now();
    await waitFor(async () => (await longLived.set("k", "after")) === "OK", 5000);
    // Reconnect backoff is capped at 2 s (longLived.ts).
    expect(Date.now() - healedAt).toBeLessThan(3000);
    expect(await longLived.get("k")).toBe("after");
  });

  describe("behind a proxy that accepts while the server is down", () => {
    let proxy: Server;
    let proxyPort = 0;
    let forward = true;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      proxy = createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        socket.on("error", () => {});
        // Down: accept, then close before any reply — ioredis is mid-handshake (CLIENT SETNAME).
        if (!forward) return void setTimeout(() => socket.destroy(), 20);
        const upstream = createConnection({ host: redis.host, port: redis.port });
        upstream.on("error", () => socket.destroy());
        socket.on("close", () => upstream.destroy());
        upstream.on("close", () => socket.destroy());
        socket.pipe(upstream).pipe(socket);
      });
      await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
      proxyPort = (proxy.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy?.close(resolve));
    });

    it("does not declare a connection closed mid-handshake ready, and recovers when the server is back", async () => {
      const client = await connectRedis(
        { host: "127.0.0.1", port: proxyPort },
        { longLived: true, name: "ll" },
      );
      clients.push(client);
      expect(await client.ping()).toBe("PONG");
      forward = false;
      for (const s of sockets) s.destroy();
      // Several failed handshakes: ioredis' maxRetriesPerRequest flush would have hit by now.
      await sleep(3500);
      forward = true;
      await waitFor(async () => (await client.ping()) === "PONG", 4000);
      expect(await client.client("GETNAME")).toBe("ll");
    });
  });
});

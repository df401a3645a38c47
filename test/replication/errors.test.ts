import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { FatalError, RetryableError } from "../../core/errors.ts";
import { LEGACY_REPLID, ReplicaSession } from "../../core/replication/replicaSession.ts";
import type { RedisEndpoint } from "../../core/replication/types.ts";
import { startProxy } from "../helpers/proxy.ts";
import { freePort, type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";
import { RecordingSink } from "./recordingSink.ts";

function runSession(endpoint: RedisEndpoint, extra: { psyncCommand?: string; readTimeoutMs?: number } = {}) {
  return new ReplicaSession({ endpoint, ...extra }, new RecordingSink()).run();
}

/** A TCP server that is not Redis: answers every connection with `reply` (or stays silent). */
async function fakeServer(reply: string | null): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer((socket) => {
    socket.on("error", () => {});
    if (reply !== null) socket.end(reply);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { server, port };
}

describe("ReplicaSession errors", () => {
  const procs: RedisProc[] = [];
  const servers: Server[] = [];
  afterAll(async () => {
    for (const server of servers) server.close();
    await Promise.all(procs.map((p) => p.stop()));
  });
  const start = async (opts: Parameters<typeof startRedis>[0]) => {
    const proc = await startRedis(opts);
    procs.push(proc);
    return proc;
  };

  it("wrong password → FatalError telling to check the credentials; missing password → NOAUTH advice", async () => {
    const redis = await start({ password: "right" });
    const endpoint = { host: redis.host, port: redis.port };
    const wrong = await runSession({ ...endpoint, password: "wrong" }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(FatalError);
    expect((wrong as FatalError).message).toMatch(/refused AUTH: WRONGPASS/);
    expect((wrong as FatalError).advice).toMatch(/username\/password/);
    const missing = await runSession(endpoint).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FatalError);
    expect((missing as FatalError).message).toMatch(/NOAUTH/);
    expect((missing as FatalError).advice).toMatch(/requires a password/);
  });

  it("authenticates as an ACL user; without +psync → FatalError naming the ACL rules to add", async () => {
    const redis = await start({
      aclUsers: ["full on >pw ~* &* +@all", "nopsync on >pw ~* &* +@all -psync"],
    });
    const endpoint = { host: redis.host, port: redis.port, username: "nopsync", password: "pw" };
    const err = await runSession(endpoint).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).message).toMatch(/refused PSYNC: NOPERM/);
    expect((err as FatalError).advice).toMatch(/\+psync \+replconf \+ping/);

    const sink = new RecordingSink();
    const ok = new ReplicaSession({ endpoint: { ...endpoint, username: "full" } }, sink);
    const run = ok.run();
    await waitFor(() => sink.rdbDone);
    await ok.close();
    await run;
  });

  it("PSYNC renamed away → FatalError suggesting --psync-command / --source-mode scan; the new name works", async () => {
    const redis = await start({ config: { "rename-command": "PSYNC FERRYSYNC" } });
    const endpoint = { host: redis.host, port: redis.port };
    const err = await runSession(endpoint).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).message).toMatch(/unknown command/);
    expect((err as FatalError).advice).toMatch(/--psync-command .*--source-mode scan/);

    // Under another name Redis serves a legacy SYNC (no +FULLRESYNC): still a full copy + stream.
    const sink = new RecordingSink();
    const session = new ReplicaSession({ endpoint, psyncCommand: "FERRYSYNC" }, sink);
    const run = session.run();
    await waitFor(() => sink.rdbDone);
    expect(sink.rdbBytes.subarray(0, 5).toString()).toBe("REDIS");
    expect(session.legacySync).toBe(true);
    expect(sink.full).toEqual({ replid: LEGACY_REPLID, offset: 0, rdbSize: null });
    await redis.client().set("k", "v");
    await waitFor(() => sink.seen.includes("0:set k v"));
    await session.close();
    await run;
  });

  it('PSYNC disabled with rename-command PSYNC "" → FatalError with advice', async () => {
    const redis = await start({ config: { "rename-command": 'PSYNC ""' } });
    const err = await runSession({ host: redis.host, port: redis.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).message).toMatch(/refused PSYNC: ERR unknown command/);
    expect((err as FatalError).advice).toMatch(/--psync-command .*--source-mode scan/);
  });

  it("connection refused → RetryableError naming host:port", async () => {
    const port = await freePort();
    const err = await runSession({ host: "127.0.0.1", port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it("a peer that is not Redis → FatalError 'not a Redis server?'", async () => {
    const { server, port } = await fakeServer("HTTP/1.1 400 Bad Request\r\n\r\n");
    servers.push(server);
    const err = await runSession({ host: "127.0.0.1", port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toMatch(/not a Redis server\?/);
  });

  it("a silent peer → RetryableError after readTimeoutMs", async () => {
    const { server, port } = await fakeServer(null);
    servers.push(server);
    const started = Date.now();
    const err = await runSession({ host: "127.0.0.1", port }, { readTimeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(/no data from 127\.0\.0\.1:\d+ for 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("the master going away mid-stream → RetryableError", async () => {
    const redis = await startRedis({});
    const sink = new RecordingSink();
    const session = new ReplicaSession({ endpoint: { host: redis.host, port: redis.port } }, sink);
    const run = session.run().catch((e: unknown) => e);
    await waitFor(() => sink.rdbDone);
    await redis.kill9();
    const err = await run;
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toContain(`127.0.0.1:${redis.port}`);
    await redis.stop();
  });

  it("a reset mid-stream (how a master's drop for output-buffer limits often looks) → the same 'closed the replication link' error", async () => {
    const redis = await start({});
    const proxy = await startProxy(redis);
    const sink = new RecordingSink();
    const session = new ReplicaSession({ endpoint: { host: "127.0.0.1", port: proxy.port } }, sink);
    const run = session.run().catch((e: unknown) => e);
    await waitFor(() => sink.rdbDone);
    proxy.cut(); // RST towards ferry
    const err = await run;
    await proxy.close();
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(
      /closed the replication link during streaming \(connection reset\)/,
    );
    expect((err as RetryableError).advice).toMatch(/client-output-buffer-limit replica/);
  });
});

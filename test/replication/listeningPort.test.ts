/**
 * How ferry's replication link looks on the source (docs/replication.md "Seen from the source"):
 * port=0 in INFO/ROLE — the value of a replica that accepts no connections — and the client name
 * ferry-replica in CLIENT LIST. And why port 0 is kept: Sentinel lists such a replica but never
 * connects to it, so it can never choose ferry for promotion.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLICA_CLIENT_NAME, ReplicaSession } from "../../core/replication/replicaSession.ts";
import type { RedisEndpoint } from "../../core/replication/types.ts";
import { freePort, REDIS_SERVER, type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";
import { RecordingSink } from "./recordingSink.ts";

/** Runs a session until its snapshot is in, then `body`, then closes it. */
async function withReplica(
  endpoint: RedisEndpoint,
  body: () => Promise<void>,
  listeningPort?: number,
): Promise<void> {
  const sink = new RecordingSink();
  const session = new ReplicaSession(
    { endpoint, ackIntervalMs: 100, ...(listeningPort !== undefined ? { listeningPort } : {}) },
    sink,
  );
  const run = session.run();
  try {
    await waitFor(() => sink.rdbDone || session.phase === "closed");
    expect(session.phase).not.toBe("closed");
    await body();
  } finally {
    await session.close();
    await run;
  }
}

/** `CLIENT LIST TYPE replica` as records. */
async function replicaClients(master: Redis): Promise<Array<Record<string, string>>> {
  const text = String(await master.call("CLIENT", "LIST", "TYPE", "replica"));
  return text
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => Object.fromEntries(line.split(" ").map((kv) => kv.split("=", 2) as [string, string])));
}

describe("ferry's replica link as the source shows it", () => {
  let master: RedisProc;
  let admin: Redis;

  beforeAll(async () => {
    master = await startRedis({
      aclUsers: ["repl on >pw ~* &* +psync +replconf +ping", "default on nopass ~* &* +@all"],
    });
    admin = master.client();
    await admin.set("k", "v");
  });
  afterAll(async () => {
    await master?.stop();
  });

  it("INFO and ROLE list it with port 0; CLIENT LIST names it ferry-replica (flags=S)", async () => {
    await withReplica({ host: master.host, port: master.port }, async () => {
      await waitFor(async () => /slave0:.*state=online/.test(await admin.info("replication")));
      const info = await admin.info("replication");
      expect(info).toMatch(/^slave0:ip=127\.0\.0\.1,port=0,state=online,/m);
      expect(info).toMatch(/^connected_slaves:1\r?$/m);
      const [role, , replicas] = (await admin.call("ROLE")) as [string, number, string[][]];
      expect(role).toBe("master");
      expect(replicas.map((r) => [r[0], r[1]])).toEqual([["127.0.0.1", "0"]]);
      const clients = await replicaClients(admin);
      expect(clients.map((c) => [c["name"], c["flags"]])).toEqual([[REPLICA_CLIENT_NAME, "S"]]);
    });
  });

  it("a user limited to +psync +replconf +ping (no CLIENT) still replicates, unnamed", async () => {
    await withReplica(
      { host: master.host, port: master.port, username: "repl", password: "pw" },
      async () => {
        const clients = await replicaClients(admin);
        expect(clients).toHaveLength(1);
        expect(clients[0]?.["user"]).toBe("repl");
        expect(clients[0]?.["name"]).toBe("");
        expect(clients[0]?.["flags"]).toBe("S");
        const log = (await admin.call("ACL", "LOG")) as unknown[][];
        expect(JSON.stringify(log)).toMatch(/"client\|setname"/);
      },
    );
  });

  it("Sentinel lists it at port 0 but never connects to it: never a promotion candidate", async () => {
    await withReplica({ host: master.host, port: master.port }, async () => {
      // Started after the replica is online: Sentinel's first INFO of the master (at connect; then
      // every 10 s) already lists it.
      const sentinel = await startSentinel(master);
      try {
        await waitFor(async () => (await sentinel.replicas()).length > 0, 15_000);
        const [ferry] = await sentinel.replicas();
        expect(ferry?.["name"]).toBe("127.0.0.1:0");
        expect(ferry?.["port"]).toBe("0");
        // Past down-after-milliseconds it is still "disconnected" (never dialled), hence s_down:
        // sentinelSelectSlave skips both, and REPLICAOF reconfiguration needs a link.
        await waitFor(async () => /s_down/.test((await sentinel.replicas())[0]?.["flags"] ?? ""), 10_000);
        const flags = ((await sentinel.replicas())[0]?.["flags"] ?? "").split(",");
        expect(flags).toEqual(expect.arrayContaining(["slave", "s_down", "disconnected"]));
      } finally {
        await sentinel.stop();
      }
    });
  }, 40_000);

  it("whereas a replica announcing a real port is dialled by Sentinel as a Redis server", async () => {
    // What ferry would invite by announcing e.g. its HTTP status port.
    const received: Buffer[] = [];
    const sockets = new Set<Socket>();
    const listener: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("data", (chunk: Buffer) => received.push(chunk));
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const { port } = listener.address() as { port: number };
    try {
      await withReplica(
        { host: master.host, port: master.port },
        async () => {
          const sentinel = await startSentinel(master);
          try {
            await waitFor(() => received.length > 0, 15_000);
            const [ferry] = await sentinel.replicas();
            expect(ferry?.["port"]).toBe(String(port));
            // Sentinel speaks Redis to it (a RESP command array, e.g. PING/INFO/CLIENT SETNAME).
            expect(Buffer.concat(received).toString("latin1")).toMatch(/^\*\d+\r\n\$/);
          } finally {
            await sentinel.stop();
          }
        },
        port,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => listener.close(resolve));
    }
  }, 40_000);
});

describe("FAILOVER without a target while ferry is attached (the hazard docs/replication.md warns of)", () => {
  it("picks ferry, leaves the source a read-only replica of <ip>:0 until FAILOVER ABORT", async () => {
    const source = await startRedis();
    const admin = source.client();
    const sink = new RecordingSink();
    const session = new ReplicaSession(
      { endpoint: { host: source.host, port: source.port }, ackIntervalMs: 50 },
      sink,
    );
    // The source drops its replicas when it turns into one: the session ends (retryable), as expected.
    const run = session.run().catch((err: unknown) => err);
    try {
      await waitFor(() => sink.rdbDone);
      await admin.set("k", "v");
      await waitFor(async () => {
        const info = await admin.info("replication");
        return /slave0:.*offset=(\d+)/.exec(info)?.[1] === /master_repl_offset:(\d+)/.exec(info)?.[1];
      });
      expect(await admin.call("FAILOVER")).toBe("OK");
      await waitFor(async () =>
        /master_failover_state:failover-in-progress/.test(await admin.info("replication")),
      );
      const info = await admin.info("replication");
      expect(info).toMatch(/^role:slave\r?$/m);
      expect(info).toMatch(/^master_port:0\r?$/m);
      await expect(admin.set("k", "w")).rejects.toThrow(/READONLY/);
      expect(await admin.call("FAILOVER", "ABORT")).toBe("OK");
      await waitFor(async () => /^role:master\r?$/m.test(await admin.info("replication")));
      expect(await admin.set("k", "w")).toBe("OK");
    } finally {
      await session.close();
      await run;
      await source.stop();
    }
  }, 30_000);
});

/** A redis-server --sentinel monitoring `master` (quorum 1, down-after 1 s), in a temp dir. */
async function startSentinel(master: RedisProc) {
  const dir = mkdtempSync(join(tmpdir(), "ferry-sentinel-"));
  const port = await freePort();
  const conf = join(dir, "sentinel.conf");
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor src ${master.host} ${master.port} 1`,
      "sentinel down-after-milliseconds src 1000",
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(REDIS_SERVER, [conf, "--sentinel"], { stdio: "ignore" });
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on("error", () => {});
  const stop = async () => {
    client.disconnect();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await client.ping().catch(() => "")) === "PONG", 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  /** SENTINEL REPLICAS src, each replica's flat field/value list as a record. */
  const replicas = async (): Promise<Array<Record<string, string>>> => {
    const raw = (await client.call("SENTINEL", "REPLICAS", "src")) as string[][];
    return raw.map((flat) => {
      const record: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
      return record;
    });
  };
  return { replicas, stop };
}

/**
 * Real redis-server processes for tests: free loopback ports, temp dirs, always cleaned up.
 *
 * Every process started here is registered in `live`; `stop()` removes it, and a process-exit hook
 * kills whatever is left (a test that throws before its afterAll still leaves nothing behind).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";

export const REDIS_SERVER = process.env["REDIS_SERVER"] ?? "redis-server";

export interface StartRedisOptions {
  /** `requirepass` for the default user. */
  password?: string;
  /** Raw ACL rules, one user per entry, e.g. `"alice on >secret ~* &* +@all"`. */
  aclUsers?: string[];
  /** Extra redis.conf directives (name → value), e.g. `{ "repl-backlog-size": "16kb" }`. */
  config?: Record<string, string>;
  /** `repl-diskless-sync` (default: the server's default, yes on 7.x). */
  diskless?: boolean;
  /** Start as a replica of this server. */
  replicaOf?: RedisProc;
  /** Cluster mode (used by startCluster). */
  cluster?: boolean;
  /** Enable AOF/RDB persistence so a restart keeps data and replid (default: none). */
  persistence?: boolean;
  /** Fixed port (default: a free one). */
  port?: number;
}

export interface RedisProc {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** redis:// URL including the password when one is set. */
  readonly url: string;
  readonly dir: string;
  readonly options: StartRedisOptions;
  pid(): number;
  /** A new ioredis client (closed by stop()). */
  client(): Redis;
  /** SHUTDOWN-like stop (SIGTERM), then remove the temp dir unless `keepDir`. */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
  /** kill -9, keeping the dir so restart() can reuse it. */
  kill9(): Promise<void>;
  /** Start again on the same port and dir (after kill9 or stop({keepDir:true})). */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function configText(port: number, dir: string, opts: StartRedisOptions): string {
  const lines: string[] = [
    `port ${port}`,
    "bind 127.0.0.1",
    `dir ${dir}`,
    "protected-mode no",
    "daemonize no",
    "loglevel notice",
    `logfile ${join(dir, "redis.log")}`,
    "enable-debug-command yes",
    // Tests should not wait 5 s for more replicas before a diskless transfer starts.
    "repl-diskless-sync-delay 0",
  ];
  if (opts.persistence) {
    lines.push("appendonly yes", 'save "60 1"');
  } else {
    lines.push('save ""', "appendonly no");
  }
  if (opts.password) lines.push(`requirepass ${opts.password}`);
  for (const user of opts.aclUsers ?? []) lines.push(`user ${user}`);
  if (opts.diskless !== undefined) lines.push(`repl-diskless-sync ${opts.diskless ? "yes" : "no"}`);
  if (opts.cluster) {
    lines.push(
      "cluster-enabled yes",
      `cluster-config-file ${join(dir, "nodes.conf")}`,
      "cluster-node-timeout 2000",
    );
  }
  if (opts.replicaOf) {
    lines.push(`replicaof 127.0.0.1 ${opts.replicaOf.port}`);
    if (opts.replicaOf.options.password) lines.push(`masterauth ${opts.replicaOf.options.password}`);
  }
  for (const [name, value] of Object.entries(opts.config ?? {})) lines.push(`${name} ${value}`);
  return `${lines.join("\n")}\n`;
}

async function waitReady(port: number, password: string | undefined, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
    const probe = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(password ? { password } : {}),
    });
    probe.on("error", () => {});
    try {
      await probe.connect();
      const pong = await probe.ping();
      probe.disconnect();
      if (pong === "PONG") return;
    } catch (err) {
      lastError = err;
      probe.disconnect();
    }
    await sleep(30);
  }
  throw new Error(`redis-server on port ${port} not ready: ${String(lastError)}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisProc> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), `ferry-redis-${port}-`));
  dirs.add(dir);
  const confPath = join(dir, "redis.conf");
  writeFileSync(confPath, configText(port, dir, opts));
  const clients: Redis[] = [];
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    child = spawn(REDIS_SERVER, [confPath], { stdio: "ignore" });
    live.add(child);
    child.on("exit", () => live.delete(child));
    await waitReady(port, opts.password, child);
  };
  const waitExit = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise((r) => c.once("exit", () => r()));

  await launch();
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : "";
  return {
    host: "127.0.0.1",
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    dir,
    options: opts,
    pid: () => child.pid ?? -1,
    client() {
      const client = new Redis({
        port,
        host: "127.0.0.1",
        ...(opts.password ? { password: opts.password } : {}),
      });
      client.on("error", () => {});
      clients.push(client);
      return client;
    },
    async stop({ keepDir = false } = {}) {
      for (const client of clients.splice(0)) client.disconnect();
      child.kill("SIGTERM");
      await waitExit(child);
      if (!keepDir) {
        rmSync(dir, { recursive: true, force: true });
        dirs.delete(dir);
      }
    },
    async kill9() {
      child.kill("SIGKILL");
      await waitExit(child);
    },
    async restart() {
      await launch();
    },
  };
}

export interface RedisClusterProc {
  readonly nodes: RedisProc[];
  /** `host:port` of every node, usable as ioredis Cluster seeds or ferry --source. */
  readonly seeds: Array<{ host: string; port: number }>;
  /** redis:// URL of the first node (ferry discovers the rest). */
  readonly url: string;
  client(): Cluster;
  stop(): Promise<void>;
}

/**
 * A real cluster: `masters` masters (default 3) with the 16384 slots split evenly, and
 * `replicasPerMaster` replicas each (default 0). Resolves once every node reports cluster_state:ok.
 */
export async function startCluster(
  opts: { masters?: number; replicasPerMaster?: number; config?: Record<string, string> } = {},
): Promise<RedisClusterProc> {
  const masterCount = opts.masters ?? 3;
  const replicasPerMaster = opts.replicasPerMaster ?? 0;
  const total = masterCount * (1 + replicasPerMaster);
  const nodes = await Promise.all(
    Array.from({ length: total }, () =>
      startRedis({ cluster: true, ...(opts.config ? { config: opts.config } : {}) }),
    ),
  );
  const admin = nodes.map((n) => n.client());
  const first = admin[0]!;
  for (const node of nodes.slice(1)) await first.cluster("MEET", "127.0.0.1", node.port);

  const per = Math.floor(16384 / masterCount);
  for (let m = 0; m < masterCount; m++) {
    const from = m * per;
    const to = m === masterCount - 1 ? 16383 : from + per - 1;
    const slots = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    await admin[m]!.cluster("ADDSLOTS", ...slots);
  }
  // Replicas: wait until each knows its master's node id, then CLUSTER REPLICATE.
  const masterIds = await Promise.all(
    admin.slice(0, masterCount).map((c) => c.cluster("MYID") as Promise<string>),
  );
  for (let r = 0; r < masterCount * replicasPerMaster; r++) {
    const client = admin[masterCount + r]!;
    const masterId = masterIds[r % masterCount]!;
    await waitFor(async () => String(await client.cluster("NODES")).includes(masterId), 10_000);
    await client.cluster("REPLICATE", masterId);
  }
  await waitFor(async () => {
    for (const client of admin) {
      // Every node must also see every replica as one: tests read CLUSTER SHARDS right away.
      const nodes = String(await client.cluster("NODES"));
      if ((nodes.match(/\bslave\b/g) ?? []).length !== masterCount * replicasPerMaster) return false;
      const info = String(await client.cluster("INFO"));
      if (!info.includes("cluster_state:ok")) return false;
      const known = /cluster_known_nodes:(\d+)/.exec(info);
      if (!known || Number(known[1]) !== total) return false;
    }
    return true;
  }, 20_000);
  for (const client of admin) client.disconnect();

  const seeds = nodes.map((n) => ({ host: n.host, port: n.port }));
  const clusters: Cluster[] = [];
  return {
    nodes,
    seeds,
    url: nodes[0]!.url,
    client() {
      const cluster = new Cluster(seeds, { redisOptions: {}, slotsRefreshTimeout: 5000 });
      cluster.on("error", () => {});
      clusters.push(cluster);
      return cluster;
    },
    async stop() {
      for (const cluster of clusters.splice(0)) cluster.disconnect();
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  stepMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(stepMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ""}`);
}

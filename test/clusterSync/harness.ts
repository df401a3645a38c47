/**
 * Shared pieces of the cluster sync tests: a SyncConfig for two URLs, a job runner that keeps the
 * log lines (the tests assert on +CONTINUE and warnings), and a compare that scans every master of
 * a cluster (a cluster SCAN on one node only sees that node's slots).
 */
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { parseRedisUrl, redactUrl } from "../../core/connect/url.ts";
import { SYNC_DEFAULTS, type SyncConfig } from "../../core/jobs/syncConfig.ts";
import { SyncJob, type SyncStatus } from "../../core/jobs/syncJob.ts";
import { createLogger } from "../../core/observability/logger.ts";
import { allKeys, type Difference, keyDifference } from "../helpers/compare.ts";
import { mulberry32 } from "../helpers/random.ts";

export function syncConfig(source: string, target: string, extra: Partial<SyncConfig> = {}): SyncConfig {
  const endpoint = (url: string) => {
    const { tlsEnabled: _tls, ...parsed } = parseRedisUrl(url);
    return { ...parsed, display: redactUrl(url) };
  };
  return {
    ...SYNC_DEFAULTS,
    batch: { ...SYNC_DEFAULTS.batch },
    backoff: { baseMs: 50, maxMs: 1000 },
    job: `t${Math.floor(Math.random() * 1e9)}`,
    source: endpoint(source),
    target: endpoint(target),
    readTimeoutMs: 10_000,
    ...extra,
  };
}

export interface RunningJob {
  job: SyncJob;
  done: Promise<SyncStatus>;
  /** Parsed log lines so far. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<SyncStatus>;
}

export async function startJob(
  config: SyncConfig,
  opts: { filters?: Parameters<typeof SyncJob.open>[0]["filters"] } = {},
): Promise<RunningJob> {
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ format: "json", level: process.env["FERRY_TEST_LOG"] ?? "info", destination });
  const job = await SyncJob.open({ config, log, ...(opts.filters ? { filters: opts.filters } : {}) });
  const done = job.run();
  done.catch(() => {});
  return {
    job,
    done,
    logs,
    async stop() {
      await job.stop();
      return done;
    },
  };
}

/** Resolves once every shard streams and the applied offsets caught up with the sources. */
export async function waitCaughtUp(job: SyncJob, sources: Redis[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = job.status();
    if (status.phase === "failed") throw new Error(`job failed: ${status.errors.join("; ")}`);
    const offsets = new Map<string, number>();
    for (const source of sources) {
      const info = await source.info("replication");
      const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? -1);
      offsets.set(`${source.options.host}:${source.options.port}`, offset);
    }
    const ready =
      status.shards.length > 0 &&
      status.shards.every((s) => {
        const want = offsets.get(s.address);
        return s.phase === "streaming" && want !== undefined && s.appliedOffset >= want;
      });
    if (ready) return;
    if (Date.now() > deadline)
      throw new Error(
        `not caught up: ${JSON.stringify(status.shards)} sources ${JSON.stringify([...offsets])}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The masters of a cluster, as clients (closed by the caller via `disconnect`). */
export async function masterClients(seed: { host: string; port: number }): Promise<Redis[]> {
  const probe = new Redis({ host: seed.host, port: seed.port, lazyConnect: true });
  probe.on("error", () => {});
  await probe.connect();
  const nodes = String(await probe.cluster("NODES"));
  probe.disconnect();
  const masters: Redis[] = [];
  for (const line of nodes.split("\n")) {
    const [, addr, flags, , , , , , ...slots] = line.split(" ");
    if (!addr || !flags?.split(",").includes("master") || flags.includes("fail") || slots.length === 0)
      continue;
    const [host, port] = (addr.split("@")[0] ?? "").split(":");
    const client = new Redis({ host: host ?? "127.0.0.1", port: Number(port) });
    client.on("error", () => {});
    masters.push(client);
  }
  return masters;
}

export type Side =
  | { kind: "standalone"; client: Redis; db?: number }
  | { kind: "cluster"; seed: { host: string; port: number } };

async function keysOf(side: Side, ignore: string): Promise<Map<string, { key: Buffer; client: Redis }>> {
  const clients = side.kind === "standalone" ? [side.client] : await masterClients(side.seed);
  if (side.kind === "standalone") await side.client.select(side.db ?? 0);
  const out = new Map<string, { key: Buffer; client: Redis }>();
  for (const client of clients)
    for (const key of await allKeys(client, ignore)) out.set(key.toString("base64"), { key, client });
  return out;
}

/**
 * Key-by-key compare of two sides, each a standalone db or a whole cluster. Several standalone
 * source dbs may be compared against one cluster (db 0) by passing them in `sources`.
 */
export async function compareSides(
  sources: Side[],
  target: Side,
  opts: { ttlToleranceMs?: number; ignorePrefix?: string } = {},
): Promise<Difference[]> {
  const ignore = opts.ignorePrefix ?? "__ferry:";
  const tolerance = opts.ttlToleranceMs ?? 1500;
  const diffs: Difference[] = [];
  const targetKeys = await keysOf(target, ignore);
  const close = (side: Side, map: Map<string, { client: Redis }>) => {
    if (side.kind === "cluster")
      for (const c of new Set([...map.values()].map((e) => e.client))) c.disconnect();
  };
  for (const source of sources) {
    const db = source.kind === "standalone" ? (source.db ?? 0) : 0;
    const sourceKeys = await keysOf(source, ignore);
    for (const [id, { key, client }] of sourceKeys) {
      const name = key.toString("latin1");
      const other = targetKeys.get(id);
      if (!other) {
        diffs.push({ db, key: name, reason: "missing on target" });
        continue;
      }
      targetKeys.delete(id);
      const reason = await keyDifference(client, other.client, key, tolerance);
      if (reason) diffs.push({ db, key: name, reason });
    }
    close(source, sourceKeys);
  }
  for (const { key } of targetKeys.values())
    diffs.push({ db: 0, key: key.toString("latin1"), reason: "extra on target" });
  close(target, targetKeys);
  return diffs;
}

/**
 * Writes to a cluster source: non-idempotent commands (a replay would show), expiries, deletes,
 * and multi-key commands within one slot (hash tags) — a cluster refuses cross-slot ones itself.
 * Each round sends `perRound` commands concurrently (ioredis routes them per node).
 */
export function startClusterLoad(
  client: import("ioredis").Cluster,
  opts: { seed?: number; keys?: number; perRound?: number } = {},
): { stop(): Promise<number> } {
  const rnd = mulberry32(opts.seed ?? 1);
  const keys = opts.keys ?? 300;
  const pick = (prefix: string) => `${prefix}:${Math.floor(rnd() * keys)}`;
  let running = true;
  let sent = 0;
  const one = (): Promise<unknown> => {
    const r = rnd();
    const tag = `{u${Math.floor(rnd() * 50)}}`;
    if (r < 0.15) return client.incr(pick("counter"));
    if (r < 0.25) return client.lpush(pick("list"), `v${Math.floor(rnd() * 1e6)}`);
    if (r < 0.33) return client.append(pick("str"), "ab");
    if (r < 0.43) return client.set(pick("plain"), `value-${rnd()}`);
    if (r < 0.48) return client.pexpireat(pick("plain"), Date.now() + 3_600_000);
    if (r < 0.55) return client.mset(`${tag}a`, `${rnd()}`, `${tag}b`, `${rnd()}`, `${tag}c`, "x");
    if (r < 0.6) return client.del(`${tag}a`, `${tag}c`);
    if (r < 0.68) return client.hset(pick("hash"), `f${Math.floor(rnd() * 20)}`, `${rnd()}`);
    if (r < 0.74) return client.sadd(pick("set"), `m${Math.floor(rnd() * 50)}`);
    if (r < 0.8) return client.zadd(pick("zset"), Math.floor(rnd() * 1000) / 7, `m${Math.floor(rnd() * 50)}`);
    if (r < 0.84) return client.xadd(pick("stream"), "*", "f", `${rnd()}`);
    if (r < 0.92) return client.multi().incr(`${tag}n`).lpush(`${tag}l`, "in-tx").incrby(`${tag}n`, 5).exec();
    if (r < 0.96) return client.setex(pick("volatile"), 3600, "soon");
    return client.unlink(pick("hash"));
  };
  const loop = (async () => {
    while (running) {
      const perRound = opts.perRound ?? 50;
      await Promise.all(Array.from({ length: perRound }, () => one().catch(() => null)));
      sent += perRound;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

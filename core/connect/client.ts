/**
 * ioredis clients with sane timeouts and TLS, whose connection failures become one clear message
 * (STYLE.md habit 3) instead of ioredis' generic "Connection is closed.".
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { BadInputError, FatalError, type FerryError, RetryableError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";
import { failCommandsOnClose, reconnectDelayMs } from "./longLived.ts";
import { formatAddress } from "./url.ts";

export interface ConnectOptions {
  db?: number;
  /** TCP connect + first reply. Default 10 s. */
  connectTimeoutMs?: number;
  /** Per command, once connected. Default 60 s (a big LRANGE page on a busy server can be slow). */
  commandTimeoutMs?: number;
  /** CLIENT SETNAME, shows in CLIENT LIST on the server. */
  name?: string;
  /** Coalesce concurrent commands into pipelines (ioredis groups them per node on a cluster). */
  autoPipelining?: boolean;
  /** Reconnect attempts after the first successful connect. Default 5 (unlimited when longLived). */
  maxReconnects?: number;
  /**
   * A connection kept for the life of a job (writer, lag poller, scan reader, …): reconnects
   * forever, fails commands in flight when the connection closes instead of dropping them, and never
   * flushes ioredis' own handshake by retry count (longLived.ts explains each pitfall).
   * The first connect still fails fast: the user is waiting for a verdict.
   */
  longLived?: boolean;
}

/** Adds `--tls-ca <file>` / `--tls-insecure` to an endpoint (TLS is switched on by either). */
export function withTls(
  endpoint: RedisEndpoint,
  opts: { caFile?: string | undefined; insecure?: boolean | undefined },
): RedisEndpoint {
  if (!opts.caFile && !opts.insecure) return endpoint;
  const tls = { ...(endpoint.tls ?? { servername: endpoint.host }) };
  if (opts.caFile) {
    try {
      tls.ca = readFileSync(opts.caFile);
    } catch (err) {
      throw new BadInputError(
        `cannot read the TLS CA file ${opts.caFile}: ${(err as Error).message}`,
        "pass a PEM file with --tls-ca",
      );
    }
  }
  if (opts.insecure) tls.insecure = true;
  return { ...endpoint, tls };
}

export function redisOptions(endpoint: RedisEndpoint, opts: ConnectOptions = {}): RedisOptions {
  const options: RedisOptions = {
    host: endpoint.host,
    port: endpoint.port,
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    commandTimeout: opts.commandTimeoutMs ?? 60_000,
    // The explicit PING in connectRedis is the readiness check: ioredis' INFO-based one needs a
    // permission that restricted ACL users often lack, and hides the real error behind "closed".
    enableReadyCheck: false,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: opts.autoPipelining ?? false,
    // disconnect() ends the socket and arms a timer to destroy it if it is still open; a socket that
    // never connected (refused, wrong password) never reports "close", so the default 2 s timer
    // held every failing `ferry` command open for 2 s after its error message.
    disconnectTimeout: 200,
  };
  if (endpoint.username) options.username = endpoint.username;
  if (endpoint.password) options.password = endpoint.password;
  if (opts.db !== undefined) options.db = opts.db;
  if (opts.name) options.connectionName = opts.name;
  if (endpoint.tls) options.tls = tlsOptions(endpoint.tls);
  return options;
}

function tlsOptions(tls: NonNullable<RedisEndpoint["tls"]>): ConnectionOptions {
  const out: ConnectionOptions = {};
  if (tls.ca) out.ca = tls.ca;
  // SNI carries host names only (RFC 6066); Node warns and will ignore an IP there.
  if (tls.servername && !isIP(tls.servername)) out.servername = tls.servername;
  if (tls.insecure) {
    out.rejectUnauthorized = false;
    out.checkServerIdentity = () => undefined;
  }
  return out;
}

/** A connected, authenticated client (PING answered), or a FerryError that says what is wrong. */
export async function connectRedis(endpoint: RedisEndpoint, opts: ConnectOptions = {}): Promise<Redis> {
  let connected = false;
  const maxReconnects = opts.maxReconnects ?? (opts.longLived ? Number.POSITIVE_INFINITY : 5);
  const client = new Redis({
    ...redisOptions(endpoint, opts),
    // Fail fast on the first connect (the user is waiting for a verdict); later, ride out blips.
    retryStrategy: (times) => (connected && times <= maxReconnects ? reconnectDelayMs(times) : null),
  });
  const errors: Error[] = [];
  const onError = (err: Error) => errors.push(err);
  client.on("error", onError);
  const timeoutMs = opts.connectTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("ferry: connect timeout")), timeoutMs + 500);
    });
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      timeout,
    ]);
    connected = true;
    if (opts.longLived) failCommandsOnClose(client);
    return client;
  } catch (err) {
    client.disconnect();
    throw describeConnectError([...errors, err as Error], endpoint, timeoutMs);
  } finally {
    clearTimeout(timer);
    client.off("error", onError);
    client.on("error", () => {}); // later errors surface on the failing command
  }
}

/** A cluster client seeded with the given masters (slots discovered by ioredis, MOVED/ASK followed). */
export async function connectCluster(seeds: RedisEndpoint[], opts: ConnectOptions = {}): Promise<Cluster> {
  const first = seeds[0];
  if (!first) throw new BadInputError("no cluster node to connect to", "pass the URL of one cluster node");
  const base = redisOptions(first, opts);
  delete base.host;
  delete base.port;
  delete base.db;
  const cluster = new Cluster(
    seeds.map((s) => ({ host: s.host, port: s.port })),
    {
      redisOptions: base,
      lazyConnect: true,
      enableReadyCheck: true,
      enableAutoPipelining: opts.autoPipelining ?? false,
      slotsRefreshTimeout: opts.connectTimeoutMs ?? 10_000,
      maxRedirections: 16,
    },
  );
  const errors: Error[] = [];
  cluster.on("error", (err: Error) => errors.push(err));
  try {
    await cluster.connect();
    await cluster.ping();
    return cluster;
  } catch (err) {
    cluster.disconnect();
    throw describeConnectError([...errors, err as Error], first, opts.connectTimeoutMs ?? 10_000);
  }
}

/** Maps what went wrong during a connect to one message; the most specific error wins. */
export function describeConnectError(
  errors: Error[],
  endpoint: RedisEndpoint,
  timeoutMs: number,
): FerryError {
  const at = formatAddress(endpoint);
  const user = endpoint.username ?? "default";
  type CodedError = Error & { code?: string };
  const has = (test: (e: CodedError) => boolean) => errors.some((e) => test(e));
  const tlsProblem = (e: CodedError) =>
    /SSL|TLS|certificate|self.signed|wrong version number|EPROTO/i.test(`${e.message} ${e.code ?? ""}`);
  const cause = errors[0];
  const options = cause ? { cause } : undefined;
  if (has((e) => /^WRONGPASS/.test(e.message))) {
    return new FatalError(
      `wrong password for user ${user} at ${at}`,
      "check the URL or FERRY_*_PASSWORD",
      options,
    );
  }
  // Redis 6+: "AUTH <password> called without any password configured for the default user";
  // Redis ≤ 5 (and proxies speaking its dialect): "Client sent AUTH, but no password is set".
  if (has((e) => /without any password configured|no password is set/.test(e.message))) {
    return new FatalError(
      `${at} has no password set, but one was given`,
      "remove the password from the URL / FERRY_*_PASSWORD (or set requirepass on the server)",
      options,
    );
  }
  if (has((e) => /^NOAUTH/.test(e.message))) {
    return new FatalError(
      `${at} requires a password`,
      "put it in the URL (redis://user:pass@host) or FERRY_*_PASSWORD",
      options,
    );
  }
  if (has((e) => /^NOPERM/.test(e.message))) {
    return new FatalError(
      `user ${user} may not run PING on ${at}`,
      "grant +ping (and the commands ferry needs) to that ACL user",
      options,
    );
  }
  if (has((e) => e.code === "ECONNREFUSED")) {
    return new RetryableError(
      `cannot reach ${at} — is Redis running there?`,
      "check the host, the port and that redis-server listens on it",
      options,
    );
  }
  if (has((e) => e.code === "ENOTFOUND" || e.code === "EAI_AGAIN")) {
    return new RetryableError(
      `cannot resolve host ${endpoint.host}`,
      "check the host name in the URL",
      options,
    );
  }
  if (has((e) => /Protocol error|ParserError/i.test(`${e.name} ${e.message}`))) {
    return new FatalError(
      `${at} does not speak the Redis protocol`,
      "check the port (6379 by default); for a TLS port use rediss://",
      options,
    );
  }
  if (has(tlsProblem)) {
    const detail = errors.find(tlsProblem);
    return new FatalError(
      `TLS handshake with ${at} failed: ${detail?.message ?? "unknown error"}`,
      endpoint.tls
        ? "use redis:// if the port is not TLS, pass the CA bundle for a private CA (--tls-ca, or --source-tls-ca / --target-tls-ca for ferry sync), or --tls-insecure to skip verification"
        : "the server may expect TLS: use rediss://",
      options,
    );
  }
  if (has((e) => e.code === "ETIMEDOUT" || /timeout/i.test(e.message))) {
    return new RetryableError(
      `no answer from ${at} within ${Math.round(timeoutMs / 1000)} s`,
      "check firewalls/security groups, that the port is a Redis port, and that the server is not blocked (e.g. loading)",
      options,
    );
  }
  if (has((e) => /^LOADING/.test(e.message))) {
    return new RetryableError(`${at} is loading its dataset`, "wait until it has loaded and retry", options);
  }
  if (has((e) => /Connection is closed|ECONNRESET|EPIPE/.test(`${e.message} ${e.code ?? ""}`))) {
    return new RetryableError(
      `${at} closed the connection before answering`,
      endpoint.tls ? "check that the port speaks TLS" : "check the port; a TLS-only server needs rediss://",
      options,
    );
  }
  return new RetryableError(
    `cannot connect to ${at}: ${cause?.message ?? "unknown error"}`,
    "check the URL",
    options,
  );
}

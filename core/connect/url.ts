/**
 * Redis URLs as users type them: `redis://[user[:pass]@]host[:port][/db]` and `rediss://` (TLS).
 * Credentials may also come from the environment (`FERRY_SOURCE_PASSWORD`, `FERRY_TARGET_USERNAME`…)
 * so they stay out of shell history and process listings. Messages never echo a password.
 */
import { BadInputError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";

export type EndpointRole = "source" | "target";

export interface ParsedRedisUrl extends RedisEndpoint {
  /** The `/db` path segment, when given. */
  db?: number;
  tlsEnabled: boolean;
}

export interface ParseUrlOptions {
  /** Which FERRY_<ROLE>_PASSWORD / FERRY_<ROLE>_USERNAME variables to read. */
  role?: EndpointRole;
  env?: Record<string, string | undefined>;
}

const DEFAULT_PORT = 6379;
const SCHEMES = { "redis:": false, "rediss:": true } as const;

export function parseRedisUrl(url: string, opts: ParseUrlOptions = {}): ParsedRedisUrl {
  const shown = redactUrl(url);
  const trimmed = url.trim();
  if (trimmed === "") throw new BadInputError("empty Redis URL", "give one like redis://host:6379");
  // A bare host:port is the most common slip; say so instead of "invalid URL".
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new BadInputError(
      `"${shown}" is not a Redis URL (missing scheme)`,
      `write it as redis://${shown} (or rediss:// for TLS)`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new BadInputError(
      `"${shown}" is not a valid Redis URL`,
      "expected redis://[user[:password]@]host[:port][/db]; percent-encode special characters in the password",
    );
  }
  const scheme = parsed.protocol.toLowerCase();
  if (!(scheme in SCHEMES)) {
    throw new BadInputError(
      `unsupported scheme "${scheme}" in "${shown}"`,
      "use redis:// or rediss:// (TLS)",
    );
  }
  const tlsEnabled = SCHEMES[scheme as keyof typeof SCHEMES];
  // URL keeps IPv6 hosts in brackets; net.connect wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new BadInputError(`no host in "${shown}"`, "expected redis://host:port");
  let port = DEFAULT_PORT;
  if (parsed.port !== "") {
    port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new BadInputError(`invalid port in "${shown}"`, "the port must be 1–65535");
    }
  }
  const endpoint: ParsedRedisUrl = { host, port, tlsEnabled };
  if (tlsEnabled) endpoint.tls = { servername: host };

  const path = parsed.pathname.replace(/^\//, "");
  if (path !== "") {
    if (!/^\d+$/.test(path)) {
      throw new BadInputError(
        `invalid db "${path}" in "${shown}"`,
        "the path is a db number, e.g. redis://host:6379/0",
      );
    }
    endpoint.db = Number(path);
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new BadInputError(
      `unexpected query or fragment in "${shown}"`,
      "pass TLS and other settings as ferry options, not URL parameters",
    );
  }

  const username = decode(parsed.username, shown);
  const password = decode(parsed.password, shown);
  const env = opts.env ?? process.env;
  const prefix = opts.role ? `FERRY_${opts.role.toUpperCase()}_` : undefined;
  const envUser = prefix ? env[`${prefix}USERNAME`] : undefined;
  const envPass = prefix ? env[`${prefix}PASSWORD`] : undefined;
  // The URL wins over the environment: it is the more specific of the two.
  const user = username || envUser;
  const pass = password || envPass;
  if (user) endpoint.username = user;
  if (pass) endpoint.password = pass;
  return endpoint;
}

function decode(part: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadInputError(
      `malformed percent-encoding in the credentials of "${shown}"`,
      "encode % as %25 in user names and passwords",
    );
  }
}

/** The URL with its password replaced by `***`, safe for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^/]*@/i, "$1:***@");
}

/** `host:port` (IPv6 hosts in brackets), for messages and shard ids. */
export function formatAddress(endpoint: Pick<RedisEndpoint, "host" | "port">): string {
  return endpoint.host.includes(":")
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

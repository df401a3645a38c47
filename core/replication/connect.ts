/**
 * Opens the raw replication socket (TCP or TLS). Not ioredis: the replication link interleaves RESP
 * replies with a raw RDB payload and needs exact byte accounting and manual flow control.
 */
import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { FatalError, RetryableError } from "../errors.ts";
import type { RedisEndpoint } from "./types.ts";

/** TLS failures that a retry cannot fix (certificate trust), unlike refused/reset connections. */
const TLS_TRUST_ERRORS = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

export function endpointAddress(endpoint: RedisEndpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}

/** Connect error → RetryableError naming host:port, or FatalError for TLS trust problems. */
export function connectionError(endpoint: RedisEndpoint, err: unknown, during: string): Error {
  const address = endpointAddress(endpoint);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? "";
  const detail = err instanceof Error ? err.message : String(err);
  if (TLS_TRUST_ERRORS.has(code)) {
    return new FatalError(
      `TLS certificate of ${address} not trusted (${code})`,
      "pass the CA certificate (--source-tls-ca) or, for testing only, --source-tls-insecure",
      { cause: err },
    );
  }
  return new RetryableError(
    `connection to ${address} failed ${during}: ${detail}`,
    "check that the source host and port are reachable; ferry retries",
    { cause: err },
  );
}

export function openSocket(endpoint: RedisEndpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const { host, port, tls } = endpoint;
    const socket: Socket = tls
      ? tlsConnect({
          host,
          port,
          rejectUnauthorized: !tls.insecure,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.servername && !isIP(tls.servername) ? { servername: tls.servername } : {}),
        })
      : netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        connectionError(endpoint, new Error(`no connection within ${timeoutMs} ms`), "while connecting"),
      );
    }, timeoutMs);
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectionError(endpoint, err, "while connecting"));
    };
    socket.once("error", onError);
    socket.once(tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 15_000);
      resolve(socket);
    });
  });
}

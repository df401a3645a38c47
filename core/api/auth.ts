/**
 * Bearer API keys. Only sha256 hashes are kept (a leaked state dir or key file does not leak a key);
 * a presented key is hashed and compared with crypto.timingSafeEqual against every stored hash, with
 * no early exit, so response time does not reveal how much of a key matched or which entry did.
 *
 * Roles: `admin` may do everything; `read` may only GET (403 otherwise).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { BadInputError } from "../errors.ts";
import { problem } from "./problem.ts";

export const API_KEY_ROLES = ["admin", "read"] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export interface ApiKey {
  /** sha256 of the key, 32 bytes. */
  hash: Buffer;
  role: ApiKeyRole;
}

/** Keys ferry generates: a prefix that secret scanners can match, then 256 random bits. */
const KEY_PREFIX = "ferry_";
/** RFC 6750 b64token. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/**
 * Key file: one key per line, `<key or sha256:<64 hex>> [admin|read]`; `#` starts a comment.
 * Plain keys are hashed on load, so a file of hashes and a file of keys both work.
 */
export function parseApiKeyFile(text: string, source = "API key file"): ApiKey[] {
  const keys: ApiKey[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const [secret, role = "admin", extra] = line.split(/\s+/);
    const where = `${source} line ${index + 1}`;
    if (extra !== undefined || !secret || !(API_KEY_ROLES as readonly string[]).includes(role)) {
      throw new BadInputError(
        `${where}: expected "<key or sha256:HEX> [admin|read]"`,
        "fix or remove that line",
      );
    }
    let hash: Buffer;
    if (secret.startsWith("sha256:")) {
      const hex = secret.slice("sha256:".length);
      if (!/^[a-f0-9]{64}$/i.test(hex))
        throw new BadInputError(`${where}: sha256 hash must be 64 hex digits`);
      hash = Buffer.from(hex, "hex");
    } else {
      if (!TOKEN.test(secret))
        throw new BadInputError(`${where}: a key may only use A-Z a-z 0-9 - . _ ~ + / =`);
      hash = hashApiKey(secret);
    }
    keys.push({ hash, role: role as ApiKeyRole });
  });
  return keys;
}

export function formatApiKeyLine(key: ApiKey): string {
  return `sha256:${key.hash.toString("hex")} ${key.role}`;
}

/** The role of the matching key, or null. Constant time in the key and in which entry matches. */
export function verifyApiKey(keys: readonly ApiKey[], presented: string): ApiKeyRole | null {
  const hash = hashApiKey(presented);
  let role: ApiKeyRole | null = null;
  for (const key of keys) {
    if (timingSafeEqual(key.hash, hash) && role === null) role = key.role;
  }
  return role;
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** 401 without or with malformed/unknown credentials; 403 when a read-only key tries to change something. */
export function bearerAuth(keys: readonly ApiKey[]): MiddlewareHandler {
  const challenge = (error: string) => ({ "www-authenticate": `Bearer realm="ferry", error="${error}"` });
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (header === undefined) {
      return problem(
        c,
        401,
        { detail: "no credentials", advice: "send Authorization: Bearer <api key>" },
        {
          "www-authenticate": 'Bearer realm="ferry"',
        },
      );
    }
    const match = /^Bearer +(\S+)$/i.exec(header);
    if (!match?.[1] || !TOKEN.test(match[1])) {
      return problem(
        c,
        401,
        { detail: "malformed Authorization header", advice: "send Authorization: Bearer <api key>" },
        challenge("invalid_request"),
      );
    }
    const role = verifyApiKey(keys, match[1]);
    if (role === null) {
      return problem(
        c,
        401,
        { detail: "unknown API key", advice: "check the key (ferry serve prints a new one on first start)" },
        challenge("invalid_token"),
      );
    }
    if (role === "read" && !READ_METHODS.has(c.req.method)) {
      return problem(c, 403, {
        detail: "this API key is read-only",
        advice: "use an admin key to change jobs",
      });
    }
    await next();
  };
}

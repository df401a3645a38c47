/**
 * What the target server accepts: the RDB version of its RESTORE payloads and the commands the
 * value rewrite may use. Read from `INFO server` (redis_version / valkey_version / server_name).
 */
import { BadInputError } from "../errors.ts";
import type { RewriteOptions } from "../rdb/commands.ts";

export type ServerFlavor = "redis" | "valkey";

export interface TargetFeatures {
  streamMetadata: boolean;
  createConsumer: boolean;
  hashFieldExpire: boolean;
  /** FUNCTION LOAD (Redis 7.0+, every Valkey). */
  functions: boolean;
}

export interface TargetInfo {
  flavor: ServerFlavor;
  /** `major.minor.patch` as reported. */
  version: string;
  /** Highest RDB version the target loads (the `RDB_VERSION` of its rdb.h). */
  rdbVersion: number;
  features: TargetFeatures;
}

/**
 * `RDB_VERSION` by first release that carries it, newest first (rdb.h history; Redis's librdb keeps
 * the same table). Redis 2.8 stayed on 6, 6.0/6.2 on 9, 8.0–8.4 on 12.
 */
const REDIS_RDB_VERSIONS = [
  [8, 6, 13],
  [7, 4, 12],
  [7, 2, 11],
  [7, 0, 10],
  [5, 0, 9],
  [4, 0, 8],
  [3, 2, 7],
  [2, 6, 6],
  [2, 4, 5],
] as const;

/**
 * Valkey kept Redis 7.2's RDB 11 through 8.x, then jumped to 80 (9.0, header magic `VALKEY`) and 81
 * (9.2) so as never to collide with Redis's 12+ (valkey rdb.h RDB_VERSION_MAP). Valkey reserves 12–79
 * as "foreign" and refuses them.
 */
const VALKEY_RDB_VERSIONS = [
  [9, 2, 81],
  [9, 0, 80],
  [7, 2, 11],
] as const;

const FOREIGN_MIN = 12;
const FOREIGN_MAX = 79;

function parseVersion(version: string): [number, number, number] {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!match)
    throw new BadInputError(
      `cannot read server version "${version}"`,
      "check the target's INFO server output",
    );
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function atLeast(v: readonly number[], major: number, minor: number): boolean {
  const [a = 0, b = 0] = v;
  return a > major || (a === major && b >= minor);
}

export function rdbVersionFor(flavor: ServerFlavor, version: string): number {
  const v = parseVersion(version);
  const table = flavor === "valkey" ? VALKEY_RDB_VERSIONS : REDIS_RDB_VERSIONS;
  for (const [major, minor, rdb] of table) if (atLeast(v, major, minor)) return rdb;
  // Older than every row: Redis < 2.4 (RDB ≤ 4) cannot RESTORE anything we would send.
  return flavor === "valkey" ? 11 : 4;
}

export function featuresFor(flavor: ServerFlavor, version: string): TargetFeatures {
  const v = parseVersion(version);
  if (flavor === "valkey") {
    // Valkey forked from Redis 7.2.4: it has every 7.2 command; hash field TTLs arrived in 9.0.
    return { streamMetadata: true, createConsumer: true, hashFieldExpire: atLeast(v, 9, 0), functions: true };
  }
  return {
    streamMetadata: atLeast(v, 7, 0),
    createConsumer: atLeast(v, 6, 2),
    hashFieldExpire: atLeast(v, 7, 4),
    functions: atLeast(v, 7, 0),
  };
}

export function targetInfo(flavor: ServerFlavor, version: string): TargetInfo {
  return {
    flavor,
    version,
    rdbVersion: rdbVersionFor(flavor, version),
    features: featuresFor(flavor, version),
  };
}

/**
 * From the text of `INFO server`. Valkey also reports `redis_version:7.2.4` for client compatibility,
 * so `valkey_version` (or `server_name:valkey`) wins.
 */
export function targetInfoFromInfo(infoText: string): TargetInfo {
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}:(.*)$`, "m").exec(infoText)?.[1]?.trim();
  const valkey = field("valkey_version");
  if (valkey) return targetInfo("valkey", valkey);
  const redis = field("redis_version");
  if (!redis)
    throw new BadInputError(
      "INFO server has no redis_version",
      "check that the target is a Redis or Valkey server",
    );
  return targetInfo(field("server_name") === "valkey" ? "valkey" : "redis", redis);
}

/**
 * Can a DUMP payload stamped with `sourceRdbVersion` be RESTOREd on `target`? Both servers refuse a
 * payload newer than their RDB_VERSION; Valkey also refuses Redis's 12–79 ("foreign") outright.
 */
export function acceptsPayload(target: TargetInfo, sourceRdbVersion: number): boolean {
  if (sourceRdbVersion > target.rdbVersion) return false;
  if (target.flavor === "valkey" && sourceRdbVersion >= FOREIGN_MIN && sourceRdbVersion <= FOREIGN_MAX)
    return false;
  return true;
}

export function rewriteOptionsFor(
  target: TargetInfo,
  limits: Pick<RewriteOptions, "maxBytes" | "maxElements"> = {},
): RewriteOptions {
  const { streamMetadata, createConsumer, hashFieldExpire } = target.features;
  return { streamMetadata, createConsumer, hashFieldExpire, ...limits };
}

/**
 * The `--source`/`--target`/TLS flags and number parsers shared by `ferry check` and `ferry verify`.
 * Definitions only (no redis client): the command definitions import this for `--help`.
 */
import type { Command } from "commander";
import { parseSize } from "../../core/check/advice.ts";
import { BadInputError } from "../../core/errors.ts";

export interface EndpointCliOptions {
  tlsCa?: string;
  tlsInsecure?: boolean;
}

export function addEndpointOptions(command: Command): Command {
  return command
    .requiredOption(
      "--source <url>",
      "source redis://[user[:pass]@]host[:port] (rediss:// for TLS); password also from FERRY_SOURCE_PASSWORD",
    )
    .requiredOption("--target <url>", "target URL; password also from FERRY_TARGET_PASSWORD")
    .option("--tls-ca <file>", "PEM CA bundle to verify TLS servers")
    .option("--tls-insecure", "do not verify TLS certificates");
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0)
      throw new BadInputError(`${name} must be a non-negative number, got "${value}"`);
    return n;
  };
}

export function size(name: string) {
  return (value: string): number => {
    const n = parseSize(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new BadInputError(`${name} must be a size like 64mb, got "${value}"`);
    return n;
  };
}

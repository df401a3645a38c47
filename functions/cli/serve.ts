/**
 * `ferry serve`: the job API (core/api) on Node, jobs kept in `<state-dir>/jobs.json`.
 *
 * Auth is on by default: keys come from --api-key-file, or on first start one admin key is generated,
 * printed once, and only its sha256 is stored (`<state-dir>/api-keys`). SIGINT/SIGTERM pause every
 * running job with its offsets recorded; the next start resumes them (JobService.recover).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Registry } from "prom-client";
import { FileJobStore } from "../../core/adapters/file/jobStore.ts";
import { createApp } from "../../core/api/app.ts";
import {
  type ApiKey,
  formatApiKeyLine,
  generateApiKey,
  hashApiKey,
  parseApiKeyFile,
} from "../../core/api/auth.ts";
import { BadInputError } from "../../core/errors.ts";
import { ManualRunner } from "../../core/jobs/manualRunner.ts";
import type { JobRunner } from "../../core/jobs/runner.ts";
import { loadOrCreateKey, SealedJobStore } from "../../core/jobs/sealedJobStore.ts";
import { JobService } from "../../core/jobs/service.ts";
import type { JobSpec } from "../../core/jobs/spec.ts";
import type { StoredStatus } from "../../core/jobs/view.ts";
import { createLogger, type Logger } from "../../core/observability/logger.ts";
import { version } from "./version.ts";

export interface ServeOptions {
  port: number;
  host: string;
  stateDir: string;
  apiKeyFile?: string;
  runner: "embedded" | "manual";
}

export interface RunningServer {
  url: string;
  port: number;
  service: JobService;
  /** Graceful: stop accepting, pause running jobs (offsets recorded), close connections. */
  close(): Promise<void>;
}

const KEYS_FILE = "api-keys";

/** Loads the API keys; on first start generates one, stores its hash and tells `announce` the key once. */
export function loadApiKeys(
  opts: Pick<ServeOptions, "stateDir" | "apiKeyFile">,
  announce: (key: string) => void,
): ApiKey[] {
  if (opts.apiKeyFile !== undefined) {
    if (!existsSync(opts.apiKeyFile)) {
      throw new BadInputError(
        `API key file ${opts.apiKeyFile} does not exist`,
        "create it: one key (or sha256:HEX) per line",
      );
    }
    const keys = parseApiKeyFile(readFileSync(opts.apiKeyFile, "utf8"), opts.apiKeyFile);
    if (keys.length === 0)
      throw new BadInputError(`${opts.apiKeyFile} holds no key`, "add at least one line");
    return keys;
  }
  const path = join(opts.stateDir, KEYS_FILE);
  if (existsSync(path)) return parseApiKeyFile(readFileSync(path, "utf8"), path);
  const key = generateApiKey();
  const entry: ApiKey = { hash: hashApiKey(key), role: "admin" };
  writeFileSync(
    path,
    `# sha256 of the API keys of ferry serve; add lines as "<key or sha256:HEX> [admin|read]"\n${formatApiKeyLine(entry)}\n`,
    {
      mode: 0o600,
    },
  );
  announce(key);
  return [entry];
}

/**
 * The embedded runner (the sync runtime in this process, core/jobs/embeddedRunner.ts) loads only for
 * `--runner embedded`. The specifier is a literal so the CLI bundle (scripts/bundle-cli.mjs) includes
 * it: a computed one would stay a runtime import of a .ts file, which plain node cannot load.
 */
async function embeddedRunner(registry: Registry, log: Logger, stateDir: string): Promise<JobRunner> {
  const { createEmbeddedRunner } = await import("../../core/jobs/embeddedRunner.ts");
  return createEmbeddedRunner({ registry, log, stateDir });
}

export async function startServer(
  opts: ServeOptions,
  deps: { runner?: JobRunner; log?: Logger; announceKey?: (key: string) => void; heartbeatMs?: number } = {},
): Promise<RunningServer> {
  const log = deps.log ?? createLogger({ format: process.stderr.isTTY ? "text" : "json" });
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const keys = loadApiKeys(opts, deps.announceKey ?? ((key) => process.stdout.write(`${keyBanner(key)}\n`)));
  const registry = new Registry();
  const runner =
    deps.runner ??
    (opts.runner === "manual" ? new ManualRunner() : await embeddedRunner(registry, log, opts.stateDir));
  // Passwords in job URLs are sealed at rest; the key lives next to, not inside, the job file.
  const store = new SealedJobStore(
    new FileJobStore<JobSpec, StoredStatus>(opts.stateDir),
    loadOrCreateKey(join(opts.stateDir, "secret.key")),
  );
  const service = new JobService({ store, runner });
  const resumed = await service.recover();
  if (resumed > 0) log.info({ jobs: resumed }, "resumed jobs that were running before the last stop");
  const app = createApp({
    service,
    auth: { keys },
    registry,
    version,
    ...(deps.heartbeatMs === undefined ? {} : { heartbeatMs: deps.heartbeatMs }),
  });
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, (info) =>
      resolve({ server: s as Server, port: (info as AddressInfo).port }),
    ) as Server;
    s.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new BadInputError(`port ${opts.port} on ${opts.host} is in use`, "choose another with --port")
          : err,
      ),
    );
  });
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  log.info({ api: url, docs: `${url}/docs`, stateDir: opts.stateDir }, "ferry API listening");
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    service,
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await service.shutdown();
        // Open SSE streams would hold server.close() forever.
        server.closeAllConnections();
        await stopped;
        log.info("ferry API stopped; running jobs paused with their offsets recorded");
      })();
      return closing;
    },
  };
}

function keyBanner(key: string): string {
  return [
    "",
    "  A new API key was generated. It is shown only this once; only its hash is stored:",
    "",
    `    ${key}`,
    "",
    "  Use it as: curl -H 'Authorization: Bearer <key>' …  or  FERRY_API_KEY=<key> ferry jobs list",
    "",
  ].join("\n");
}

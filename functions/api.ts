/**
 * Lambda entry of the job API: the same Hono app as `ferry serve`, behind a function URL or API
 * Gateway (HTTP API, payload 2.0). Environment:
 *   FERRY_JOBS_TABLE       DynamoDB table of jobs (absent: in-memory, for local invocation only)
 *   FERRY_API_AUTH=iam     the function URL uses `authorization: iam`, so the app checks no key
 *   FERRY_API_KEY_HASHES   else: bearer keys, lines of "sha256:HEX [admin|read]" (newline or comma separated)
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { handle } from "hono/aws-lambda";
import { Registry } from "prom-client";
import { DynamoJobStore } from "../core/adapters/dynamodb/index.ts";
import { MemoryJobStore } from "../core/adapters/memory/jobStore.ts";
import { createApp } from "../core/api/app.ts";
import { parseApiKeyFile } from "../core/api/auth.ts";
import { FatalError } from "../core/errors.ts";
import { ControlPlaneRunner } from "../core/jobs/controlPlaneRunner.ts";
import { JobService } from "../core/jobs/service.ts";
import type { JobSpec } from "../core/jobs/spec.ts";
import type { StoredStatus } from "../core/jobs/view.ts";
import type { JobStore } from "../core/ports.ts";
import { version } from "./cli/version.ts";

function authFromEnv(env: NodeJS.ProcessEnv) {
  const hashes = env["FERRY_API_KEY_HASHES"];
  if (hashes) return { keys: parseApiKeyFile(hashes.replaceAll(",", "\n"), "FERRY_API_KEY_HASHES") };
  if (env["FERRY_API_AUTH"] === "iam") return "none" as const;
  throw new FatalError(
    "the job API has no authentication configured",
    "set FERRY_API_AUTH=iam (function URL with authorization: iam) or FERRY_API_KEY_HASHES",
  );
}

function storeFromEnv(env: NodeJS.ProcessEnv): JobStore<JobSpec, StoredStatus> {
  const table = env["FERRY_JOBS_TABLE"];
  if (!table) return new MemoryJobStore<JobSpec, StoredStatus>();
  return new DynamoJobStore<JobSpec, StoredStatus>({ client: new DynamoDBClient({}), tableName: table });
}

const service = new JobService({ store: storeFromEnv(process.env), runner: new ControlPlaneRunner() });
export const app = createApp({ service, auth: authFromEnv(process.env), registry: new Registry(), version });
export const handler = handle(app);

/**
 * Lambda entry of the job API: the same Hono app as `ferry serve`, behind a function URL or API
 * Gateway (HTTP API, payload 2.0). Environment:
 *   FERRY_JOBS_TABLE       DynamoDB table of jobs (absent: in-memory, for local invocation only)
 *   FERRY_API_AUTH=iam     the function URL uses `authorization: iam`, so the app checks no key
 *   FERRY_API_KEY_HASHES   else: bearer keys, lines of "sha256:HEX [admin|read]" (newline or comma separated)
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECSClient } from "@aws-sdk/client-ecs";
import { handle } from "hono/aws-lambda";
import { Registry } from "prom-client";
import { DynamoJobStore, DynamoOffsetStore } from "../core/adapters/dynamodb/index.ts";
import { MemoryJobStore } from "../core/adapters/memory/jobStore.ts";
import { createApp } from "../core/api/app.ts";
import { parseApiKeyFile } from "../core/api/auth.ts";
import { FatalError } from "../core/errors.ts";
import { ControlPlaneRunner } from "../core/jobs/controlPlaneRunner.ts";
import { JobService } from "../core/jobs/service.ts";
import type { JobSpec } from "../core/jobs/spec.ts";
import type { StoredStatus } from "../core/jobs/view.ts";
import type { JobStore } from "../core/ports.ts";
import { createAwsRunner } from "./aws/controlPlane.ts";
import { EcsReplicatorTasks, linkedTaskResource } from "./aws/ecsTasks.ts";
import { AwsSecretResolver } from "./aws/secrets.ts";
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

/** With the Replicator task linked (sst.config.ts), jobs run as Fargate tasks; else nothing runs. */
async function runnerFromEnv(
  env: NodeJS.ProcessEnv,
  store: JobStore<JobSpec, StoredStatus>,
): Promise<ControlPlaneRunner> {
  const resource = env["FERRY_JOBS_TABLE"] ? await linkedTaskResource(env) : null;
  if (!resource) return new ControlPlaneRunner();
  const offsetsTable = env["FERRY_OFFSETS_TABLE"];
  return createAwsRunner({
    store,
    secrets: new AwsSecretResolver(),
    tasks: new EcsReplicatorTasks(new ECSClient({}), resource),
    ...(offsetsTable
      ? { offsets: new DynamoOffsetStore({ client: new DynamoDBClient({}), tableName: offsetsTable }) }
      : {}),
  });
}

const store = storeFromEnv(process.env);
const service = new JobService({ store, runner: await runnerFromEnv(process.env, store) });
export const app = createApp({ service, auth: authFromEnv(process.env), registry: new Registry(), version });
export const handler = handle(app);

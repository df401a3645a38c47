/**
 * The job-control API as one Hono app. It imports no runtime: `ferry serve` runs it with
 * @hono/node-server, functions/api.ts with hono/aws-lambda — both only call createApp(deps).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Registry } from "prom-client";
import type { JobService } from "../jobs/service.ts";
import { type ApiKey, bearerAuth } from "./auth.ts";
import { registerCheckRoutes } from "./checkRoutes.ts";
import { registerConsole } from "./console.ts";
import { type ConsoleAssets, loadConsoleAssets } from "./consoleAssets.ts";
import { DOCS_HTML } from "./docsPage.ts";
import { registerEventRoutes } from "./eventRoutes.ts";
import { registerJobRoutes } from "./jobRoutes.ts";
import { registerJobMetrics } from "./metrics.ts";
import { errorToProblem, fieldErrors, problem } from "./problem.ts";

export interface AppDeps {
  service: JobService;
  /**
   * Bearer API keys (hashed). `"none"` turns auth off — only where something in front authenticates
   * every request (a Lambda function URL with `authorization: iam`), never on an open port.
   */
  auth: { keys: readonly ApiKey[] } | "none";
  /** Served at /metrics, with per job/shard gauges added. */
  registry: Registry;
  version: string;
  /** SSE heartbeat period. Default 15 s (under the usual 30–60 s proxy idle timeouts). */
  heartbeatMs?: number;
  /** The web console under /console/. Default: the built console/dist (null: not built, a page says so). */
  console?: ConsoleAssets | null;
}

export const OPENAPI_INFO = {
  title: "redis-ferry job API",
  description:
    "Create, watch and control live Redis/Valkey migrations (PSYNC replica emulation, exactly-once apply, " +
    "resume from the replication offset). Errors are RFC 9457 problem details.",
} as const;

export function createApp(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return problem(c, 400, { errors: fieldErrors(result.error, result.target) });
      return undefined;
    },
  });
  app.onError((err, c) => errorToProblem(c, err));
  app.notFound((c) => problem(c, 404, { detail: `no route for ${c.req.method} ${c.req.path}` }));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key from `ferry serve` (printed once at first start, or from --api-key-file)",
  });

  app.get("/healthz", (c) => c.json({ status: "ok", version: deps.version }));
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { ...OPENAPI_INFO, version: deps.version },
  });
  app.get("/docs", (c) => c.html(DOCS_HTML));
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/healthz",
    operationId: "health",
    summary: "Liveness (no auth)",
    responses: { 200: { description: "The server is up" } },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics: per job/shard applied ops, offsets, lag, reconnects, errors",
    security: [{ bearer: [] }],
    responses: {
      200: { description: "text/plain exposition format", content: { "text/plain": { schema: {} } } },
    },
  });

  if (deps.auth !== "none") {
    const auth = bearerAuth(deps.auth.keys);
    app.use("/v1/*", auth);
    app.use("/metrics", auth);
  }
  registerJobMetrics(deps.registry, deps.service);
  app.get("/metrics", async (c) =>
    c.body(await deps.registry.metrics(), 200, { "content-type": deps.registry.contentType }),
  );
  registerJobRoutes(app, deps.service);
  registerEventRoutes(app, deps.service, deps.heartbeatMs ?? 15_000);
  registerCheckRoutes(app);
  registerConsole(app, deps.console === undefined ? loadConsoleAssets() : deps.console);
  return app;
}

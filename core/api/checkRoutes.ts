/**
 * POST /v1/check — `ferry check` over HTTP, so the console can show the preflight report (with the
 * exact setting to change) before a job is created. It connects to the given servers, so it needs an
 * admin key like every other POST. Only URLs: a secret reference is resolved where a job runs, and a
 * check that read secrets on the API host would be a way to probe them.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { runCheck } from "../check/run.ts";
import type { CheckOptions } from "../check/types.ts";
import { parseRedisUrl } from "../connect/url.ts";
import { ByteSizeSchema, RedisUrlSchema } from "../jobs/spec.ts";
import { jsonResponse, problemResponse } from "./schemas.ts";

export const CheckRequestSchema = z
  .strictObject({
    source: RedisUrlSchema,
    target: RedisUrlSchema,
    tls: z
      .strictObject({ ca: z.string().min(1).max(65536).optional(), insecure: z.boolean().optional() })
      .optional(),
    // Short defaults: a person is waiting on the answer (the CLI samples 3 s and scans 5 s).
    sampleSeconds: z.number().min(0.5).max(30).default(2),
    scanSeconds: z.number().min(0).max(30).default(2),
    bigKeyThreshold: ByteSizeSchema.optional(),
    psyncCommand: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "a command name")
      .optional(),
  })
  .meta({ id: "CheckRequest" });

const CheckResultSchema = z.object({
  id: z.string(),
  side: z.enum(["source", "target", "network"]),
  node: z.string().optional(),
  status: z.enum(["ok", "warn", "fail"]),
  message: z.string(),
  advice: z.string().optional(),
});

export const CheckReportSchema = z
  .object({
    results: z.array(CheckResultSchema),
    summary: z.object({ ok: z.number().int(), warn: z.number().int(), fail: z.number().int() }),
    exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  })
  .meta({ id: "CheckReport" });

const checkRoute = createRoute({
  method: "post",
  path: "/v1/check",
  operationId: "check",
  summary: "Preflight a migration: can ferry replicate from the source and write to the target, what to tune",
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { "application/json": { schema: CheckRequestSchema } } } },
  responses: {
    200: jsonResponse(CheckReportSchema, "One line per check and node; warnings carry the setting to change"),
    400: problemResponse("A field is invalid; `errors` names each one"),
    401: problemResponse("Missing, malformed or unknown API key"),
    403: problemResponse("Read-only API key"),
  },
});

export function registerCheckRoutes(app: OpenAPIHono): void {
  app.openapi(checkRoute, async (c) => {
    const body = c.req.valid("json");
    const tls = body.tls && {
      ...(body.tls.ca === undefined ? {} : { ca: Buffer.from(body.tls.ca) }),
      ...(body.tls.insecure === undefined ? {} : { insecure: body.tls.insecure }),
    };
    const endpoint = (url: string, role: "source" | "target") => {
      const parsed = parseRedisUrl(url, { role, env: {} });
      return tls && parsed.tlsEnabled ? { ...parsed, tls: { ...parsed.tls, ...tls } } : parsed;
    };
    const options: Partial<CheckOptions> = {
      sampleSeconds: body.sampleSeconds,
      scanSeconds: body.scanSeconds,
      ...(body.bigKeyThreshold === undefined ? {} : { bigKeyThreshold: body.bigKeyThreshold }),
      ...(body.psyncCommand === undefined ? {} : { psyncCommand: body.psyncCommand }),
    };
    const report = await runCheck({
      source: endpoint(body.source, "source"),
      target: endpoint(body.target, "target"),
      options,
    });
    return c.json(report, 200);
  });
}

/**
 * /v1/jobs: create, list, get, delete, and the actions `POST /v1/jobs/{id}:pause|:resume|:stop|:cutover`
 * (Google AIP-136 custom methods). Hono's `{id}` → `:id` conversion would turn `{id}:pause` into
 * one parameter named "id:pause" that matches any path, so the actions are routed by one regex route
 * (which also accepts a percent-encoded colon) and documented through the registry.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { JobService } from "../jobs/service.ts";
import { JobSpecSchema } from "../jobs/spec.ts";
import type { JobView } from "../jobs/view.ts";
import { fieldErrors, problem } from "./problem.ts";
import {
  ActionResultSchema,
  CreateHeaders,
  DeleteResultSchema,
  IfMatchHeaders,
  JobIdParams,
  JobListSchema,
  JobViewSchema,
  jsonResponse,
  ListQuery,
  problemResponse,
  WaitQuery,
} from "./schemas.ts";

const SECURITY = [{ bearer: [] }];
const COMMON_ERRORS = {
  400: problemResponse("A field is invalid; `errors` names each one"),
  401: problemResponse("Missing, malformed or unknown API key"),
};

const createJob = createRoute({
  method: "post",
  path: "/v1/jobs",
  operationId: "createJob",
  summary: "Create and start a migration job",
  security: SECURITY,
  request: {
    headers: CreateHeaders,
    body: { required: true, content: { "application/json": { schema: JobSpecSchema } } },
  },
  responses: {
    201: jsonResponse(JobViewSchema, "Created and started"),
    200: jsonResponse(JobViewSchema, "Replay of an earlier request with the same Idempotency-Key"),
    ...COMMON_ERRORS,
    403: problemResponse("Read-only API key"),
    409: problemResponse("Idempotency-Key reused with a different body"),
  },
});

const listJobs = createRoute({
  method: "get",
  path: "/v1/jobs",
  operationId: "listJobs",
  summary: "List jobs (paged; filter by state or label)",
  security: SECURITY,
  request: { query: ListQuery },
  responses: { 200: jsonResponse(JobListSchema, "A page of jobs"), ...COMMON_ERRORS },
});

const getJob = createRoute({
  method: "get",
  path: "/v1/jobs/{id}",
  operationId: "getJob",
  summary: "A job with its live progress (ETag: its version)",
  security: SECURITY,
  request: { params: JobIdParams },
  responses: {
    200: jsonResponse(JobViewSchema, "The job"),
    ...COMMON_ERRORS,
    404: problemResponse("No such job"),
  },
});

const deleteJob = createRoute({
  method: "delete",
  path: "/v1/jobs/{id}",
  operationId: "deleteJob",
  summary: "Delete a job that is not running, and its exactly-once markers on the target",
  security: SECURITY,
  request: { params: JobIdParams, headers: IfMatchHeaders },
  responses: {
    200: jsonResponse(DeleteResultSchema, "Deleted"),
    ...COMMON_ERRORS,
    403: problemResponse("Read-only API key"),
    404: problemResponse("No such job"),
    409: problemResponse("The job is running (stop it first) or changed since If-Match"),
  },
});

const ACTIONS = {
  pause: "Pause: stop reading the source, offsets recorded",
  resume: "Resume from the recorded offsets",
  stop: "Stop where the job stands (no drain)",
  cutover:
    "Cutover: once writes to the source have stopped, wait for lag 0 on every shard, then complete. " +
    "With ?wait=N the answer waits up to N s (200 synced, 202 still draining)",
} as const;
type Action = keyof typeof ACTIONS;

const ACTION_PATH = `/v1/jobs/:target{[^/]+(?::|%3[Aa])(?:${Object.keys(ACTIONS).join("|")})}`;

function registerActionDocs(app: OpenAPIHono): void {
  for (const [action, summary] of Object.entries(ACTIONS)) {
    app.openAPIRegistry.registerPath({
      method: "post",
      path: `/v1/jobs/{id}:${action}`,
      operationId: `${action}Job`,
      summary,
      security: SECURITY,
      request: {
        params: JobIdParams,
        headers: IfMatchHeaders,
        ...(action === "cutover" ? { query: WaitQuery } : {}),
      },
      responses: {
        200: jsonResponse(ActionResultSchema, "Done; the job as it is now"),
        ...(action === "cutover" ? { 202: jsonResponse(ActionResultSchema, "Still draining") } : {}),
        ...COMMON_ERRORS,
        403: problemResponse("Read-only API key"),
        404: problemResponse("No such job"),
        409: problemResponse("The job's state does not allow this action, or another request won the race"),
      },
    });
  }
}

/** `"3"`, `W/"3"` or `3` → 3. */
function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return Number(value.replace(/^W\//, "").replaceAll('"', ""));
}

function withEtag(c: Context, job: JobView): void {
  c.header("etag", `"${job.version}"`);
}

export function registerJobRoutes(app: OpenAPIHono, service: JobService): void {
  app.openapi(createJob, async (c) => {
    const key = c.req.valid("header")["idempotency-key"];
    const { job, created } = await service.create(
      c.req.valid("json"),
      key === undefined ? {} : { idempotencyKey: key },
    );
    withEtag(c, job);
    c.header("location", `/v1/jobs/${job.id}`);
    return created ? c.json(job, 201) : c.json(job, 200);
  });

  app.openapi(listJobs, async (c) => {
    const q = c.req.valid("query");
    const [labelKey = "", ...rest] = q.label?.split("=") ?? [];
    const page = await service.list({
      limit: q.limit,
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
      ...(q.label === undefined ? {} : { label: { key: labelKey, value: rest.join("=") } }),
    });
    return c.json(page, 200);
  });

  app.openapi(getJob, async (c) => {
    const job = await service.get(c.req.valid("param").id);
    withEtag(c, job);
    return c.json(job, 200);
  });

  app.openapi(deleteJob, async (c) => {
    const { id } = c.req.valid("param");
    const expectedVersion = parseIfMatch(c.req.valid("header")["if-match"]);
    const result = await service.delete(id, expectedVersion === undefined ? {} : { expectedVersion });
    return c.json({ id, deleted: true as const, markersRemoved: result.markersRemoved }, 200);
  });

  registerActionDocs(app);
  app.post(ACTION_PATH, async (c) => {
    const target = (c.req.param("target") ?? "").replace(/%3a/i, ":");
    const colon = target.lastIndexOf(":");
    const action = target.slice(colon + 1) as Action;
    const errors = [];
    const params = JobIdParams.safeParse({ id: target.slice(0, colon) });
    if (!params.success) errors.push(...fieldErrors(params.error, "param"));
    const query = WaitQuery.safeParse(c.req.query());
    if (!query.success) errors.push(...fieldErrors(query.error, "query"));
    const headers = IfMatchHeaders.safeParse({ "if-match": c.req.header("if-match") });
    if (!headers.success) errors.push(...fieldErrors(headers.error, "header"));
    if (!params.success || !query.success || !headers.success) return problem(c, 400, { errors });
    const expectedVersion = parseIfMatch(headers.data["if-match"]);
    const waitMs = action === "cutover" ? (query.data.wait ?? 0) * 1000 : 0;
    const result = await service.act(params.data.id, action, {
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      waitMs,
    });
    withEtag(c, result.job);
    const draining = action === "cutover" && result.job.state !== "completed";
    return c.json(result, draining ? 202 : 200);
  });
}

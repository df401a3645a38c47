/**
 * functions/api.ts invoked the way Lambda invokes it: API Gateway HTTP API / function URL events
 * (payload format 2.0) built like AWS sends them.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../../core/api/auth.ts";
import { SPEC } from "./setup.ts";

const KEY = "ferry_lambda-test-key";
type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;
let handler: Handler;

beforeAll(async () => {
  delete process.env["FERRY_JOBS_TABLE"]; // in-memory store: no AWS account in this test
  process.env["FERRY_API_KEY_HASHES"] = `sha256:${hashApiKey(KEY).toString("hex")} admin`;
  handler = (await import("../../functions/api.ts")).handler as unknown as Handler;
});

function event(
  method: string,
  rawPath: string,
  opts: { body?: unknown; headers?: Record<string, string>; query?: string } = {},
): APIGatewayProxyEventV2 {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: opts.query ?? "",
    headers: {
      host: "abcdefghij.lambda-url.eu-west-1.on.aws",
      "x-forwarded-proto": "https",
      "x-forwarded-for": "203.0.113.7",
      "user-agent": "curl/8.5.0",
      ...(body
        ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }
        : {}),
      ...opts.headers,
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdefghij",
      domainName: "abcdefghij.lambda-url.eu-west-1.on.aws",
      domainPrefix: "abcdefghij",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "203.0.113.7", userAgent: "curl/8.5.0" },
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      routeKey: "$default",
      stage: "$default",
      time: "12/Mar/2026:19:03:58 +0000",
      timeEpoch: 1773342238000,
    },
    ...(opts.query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(opts.query)) } : {}),
    ...(body ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

const context = { awsRequestId: "req-1", functionName: "ferry-api" } as Context;
const authz = { authorization: `Bearer ${KEY}` };

describe("Lambda entry (functions/api.ts)", () => {
  it("serves health, refuses requests without a key, and drives a job through its lifecycle", async () => {
    const health = await handler(event("GET", "/healthz"), context);
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body!)).toMatchObject({ status: "ok" });

    const denied = await handler(event("GET", "/v1/jobs"), context);
    expect(denied.statusCode).toBe(401);
    expect(denied.headers?.["content-type"]).toContain("application/problem+json");

    const created = await handler(event("POST", "/v1/jobs", { body: SPEC, headers: authz }), context);
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain("s3cret-source");
    const job = JSON.parse(created.body!) as { id: string; state: string };
    expect(job.state).toBe("pending"); // the control plane records it; a replicator picks it up

    const paused = await handler(event("POST", `/v1/jobs/${job.id}:pause`, { headers: authz }), context);
    expect(paused.statusCode).toBe(200);
    expect(JSON.parse(paused.body!).job.state).toBe("paused");

    const list = await handler(
      event("GET", "/v1/jobs", { headers: authz, query: "state=paused&limit=10" }),
      context,
    );
    expect(JSON.parse(list.body!).jobs.map((j: { id: string }) => j.id)).toEqual([job.id]);

    const invalid = await handler(
      event("POST", "/v1/jobs", { body: { ...SPEC, mode: "x" }, headers: authz }),
      context,
    );
    expect(invalid.statusCode).toBe(400);
    expect(JSON.parse(invalid.body!).errors).toEqual([expect.objectContaining({ path: "mode" })]);

    const stopped = await handler(event("POST", `/v1/jobs/${job.id}:stop`, { headers: authz }), context);
    expect(JSON.parse(stopped.body!).job.state).toBe("completed");
    const deleted = await handler(event("DELETE", `/v1/jobs/${job.id}`, { headers: authz }), context);
    expect(deleted.statusCode).toBe(200);
  });
});

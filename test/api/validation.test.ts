import { describe, expect, it } from "vitest";
import { auth, buildApi, jsonBody, SPEC } from "./setup.ts";

interface ProblemJson {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}

async function problemOf(res: Response): Promise<ProblemJson> {
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  return (await res.json()) as ProblemJson;
}

/** Each case: a spec change and the field the problem must name. */
const MALFORMED: Array<[string, Record<string, unknown>, string]> = [
  ["missing source", { source: undefined }, "source"],
  ["source without scheme", { source: "10.0.0.5:6379" }, "source"],
  ["source with bad scheme", { source: "http://10.0.0.5" }, "source"],
  ["source with bad port", { source: "redis://h:99999" }, "source"],
  ["target secret without kind", { target: { secret: {} } }, "target"],
  ["target secret env bad name", { target: { secret: { env: "1BAD-NAME" } } }, "target.secret.env"],
  ["target secret file relative", { target: { secret: { file: "etc/url" } } }, "target.secret.file"],
  ["mode unknown", { mode: "sometimes" }, "mode"],
  ["dbMap key not a number", { dbMap: { zero: 0 } }, "dbMap.zero"],
  ["dbMap value negative", { dbMap: { "0": -1 } }, "dbMap.0"],
  ["filters regex invalid", { filters: { includeRegexes: ["("] } }, "filters.includeRegexes.0"],
  ["filters unknown rule", { filters: { includeKeys: ["a"] } }, "filters"],
  ["bigKeyThreshold bad unit", { bigKeyThreshold: "64zz" }, "bigKeyThreshold"],
  ["bigKeyThreshold zero", { bigKeyThreshold: 0 }, "bigKeyThreshold"],
  ["maxOps negative", { maxOps: -5 }, "maxOps"],
  ["maxOps fractional", { maxOps: 1.5 }, "maxOps"],
  ["maxBytes garbage", { maxBytes: "lots" }, "maxBytes"],
  ["psyncCommand with space", { psyncCommand: "PSYNC X" }, "psyncCommand"],
  ["tls.insecure not boolean", { tls: { insecure: "yes" } }, "tls.insecure"],
  ["tls unknown field", { tls: { cert: "x" } }, "tls"],
  ["labels key uppercase", { labels: { Team: "x" } }, "labels.Team"],
  ["labels value not string", { labels: { team: 1 } }, "labels.team"],
  ["name with slash", { name: "a/b" }, "name"],
  ["filters not an object", { filters: "keys:*" }, "filters"],
  ["unknown top-level field", { sauce: 1 }, ""],
];

describe("job API validation (problem+json naming the field)", () => {
  const { app } = buildApi();

  it.each(MALFORMED)("%s", async (_case, change, field) => {
    const body: Record<string, unknown> = { ...SPEC, ...change };
    const res = await app.request("/v1/jobs", jsonBody(body));
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.status).toBe(400);
    expect(problem.title).toBe("Invalid request");
    const paths = problem.errors?.map((e) => e.path) ?? [];
    if (field === "") {
      // zod reports an unrecognized key at the object, with the key in the message.
      expect(problem.errors?.some((e) => e.message.includes("sauce"))).toBe(true);
    } else {
      expect(paths).toContain(field);
    }
    for (const e of problem.errors ?? []) expect(e.message.length).toBeGreaterThan(0);
  });

  it("never echoes a password from a rejected URL", async () => {
    const res = await app.request("/v1/jobs", jsonBody({ ...SPEC, source: "redis://:hunter2@h:99999" }));
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).not.toContain("hunter2");
  });

  it("reports every malformed field at once", async () => {
    const res = await app.request(
      "/v1/jobs",
      jsonBody({ ...SPEC, mode: "x", maxOps: 0, tls: { insecure: 1 } }),
    );
    const paths = (await problemOf(res)).errors?.map((e) => e.path).sort();
    expect(paths).toEqual(["maxOps", "mode", "tls.insecure"]);
  });

  it("rejects a body that is not JSON, and one without a JSON content type", async () => {
    const bad = await app.request("/v1/jobs", {
      method: "POST",
      headers: auth(undefined, { "content-type": "application/json" }),
      body: "{not json",
    });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).detail).toMatch(/JSON/i);
    const noType = await app.request("/v1/jobs", {
      method: "POST",
      headers: auth(),
      body: JSON.stringify(SPEC),
    });
    expect(noType.status).toBe(415);
    await problemOf(noType);
  });

  it("names query, path and header fields with their location", async () => {
    const list = await problemOf(await app.request("/v1/jobs?limit=0&state=sleeping", { headers: auth() }));
    expect(list.errors?.map((e) => e.path).sort()).toEqual(["query.limit", "query.state"]);
    const get = await problemOf(await app.request("/v1/jobs/not-a-job", { headers: auth() }));
    expect(get.errors?.map((e) => e.path)).toEqual(["path.id"]);
    const act = await problemOf(await app.request("/v1/jobs/bad:pause", { method: "POST", headers: auth() }));
    expect(act.errors?.map((e) => e.path)).toEqual(["path.id"]);
    const created = await app.request("/v1/jobs", jsonBody(SPEC));
    const { id } = (await created.json()) as { id: string };
    const ifMatch = await app.request(`/v1/jobs/${id}:pause`, {
      method: "POST",
      headers: auth(undefined, { "if-match": "yesterday" }),
    });
    expect((await problemOf(ifMatch)).errors?.map((e) => e.path)).toEqual(["header.if-match"]);
    const wait = await app.request(`/v1/jobs/${id}:cutover?wait=-1`, { method: "POST", headers: auth() });
    expect((await problemOf(wait)).errors?.map((e) => e.path)).toEqual(["query.wait"]);
  });

  it("answers unknown routes and actions with a 404 problem", async () => {
    const res = await app.request("/v1/jobs/job-0123456789abcdef:explode", {
      method: "POST",
      headers: auth(),
    });
    expect(res.status).toBe(404);
    expect((await problemOf(res)).status).toBe(404);
  });
});

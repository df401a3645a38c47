import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import type { JobView } from "../../core/jobs/view.ts";
import { ADMIN_KEY, auth, buildApi, jsonBody, READ_KEY, SPEC } from "./setup.ts";

type Api = ReturnType<typeof buildApi>;

async function create(
  api: Api,
  body: unknown = SPEC,
  headers: Record<string, string> = {},
): Promise<JobView> {
  const res = await api.app.request("/v1/jobs", jsonBody(body, ADMIN_KEY, headers));
  expect(res.status).toBe(201);
  return (await res.json()) as JobView;
}

function act(api: Api, id: string, action: string, headers: Record<string, string> = {}, query = "") {
  return api.app.request(`/v1/jobs/${id}:${action}${query}`, {
    method: "POST",
    headers: auth(ADMIN_KEY, headers),
  });
}

async function state(api: Api, id: string): Promise<JobView> {
  return (await (await api.app.request(`/v1/jobs/${id}`, { headers: auth() })).json()) as JobView;
}

describe("auth", () => {
  const api = buildApi();

  it("401 without credentials, with a malformed header, or an unknown key; public paths stay open", async () => {
    const none = await api.app.request("/v1/jobs");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Bearer ünïcode"]) {
      const res = await api.app.request("/v1/jobs", { headers: { authorization: header } });
      expect(res.status, header).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_request"');
    }
    const wrong = await api.app.request("/v1/jobs", { headers: auth("ferry_not-a-key") });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect((await api.app.request("/metrics")).status).toBe(401);
    expect((await api.app.request("/healthz")).status).toBe(200);
    expect((await api.app.request("/openapi.json")).status).toBe(200);
  });

  it("a read-only key may read but gets 403 on every change", async () => {
    const job = await create(api);
    expect((await api.app.request("/v1/jobs", { headers: auth(READ_KEY) })).status).toBe(200);
    expect((await api.app.request(`/v1/jobs/${job.id}`, { headers: auth(READ_KEY) })).status).toBe(200);
    expect((await api.app.request("/v1/jobs", jsonBody(SPEC, READ_KEY))).status).toBe(403);
    const pause = await api.app.request(`/v1/jobs/${job.id}:pause`, {
      method: "POST",
      headers: auth(READ_KEY),
    });
    expect(pause.status).toBe(403);
    const del = await api.app.request(`/v1/jobs/${job.id}`, { method: "DELETE", headers: auth(READ_KEY) });
    expect(del.status).toBe(403);
    expect((await state(api, job.id)).state).toBe("snapshot");
  });
});

describe("create, get, list", () => {
  it("creates and starts a job, never returning the source password", async () => {
    const api = buildApi();
    const res = await api.app.request("/v1/jobs", jsonBody(SPEC));
    expect(res.status).toBe(201);
    const text = await res.text();
    expect(text).not.toContain("s3cret-source");
    const job = JSON.parse(text) as JobView;
    expect(res.headers.get("location")).toBe(`/v1/jobs/${job.id}`);
    expect(res.headers.get("etag")).toBe(`"${job.version}"`);
    expect(job.spec.source).toBe("redis://:***@10.0.0.5:6379");
    expect(job.spec.target).toEqual({ secret: { env: "FERRY_TARGET_URL" } });
    expect(job.spec.bigKeyThreshold).toBe(64 * 1024 * 1024);
    expect(job.labels).toEqual({ team: "payments" });
    expect(job.state).toBe("snapshot"); // the runner started it
    expect(api.runner.calls).toEqual([{ op: "start", id: job.id, resume: false }]);
    // The stored spec keeps the password for the runner; only the views redact it.
    expect((await api.store.get(job.id))?.spec.source).toBe(SPEC.source);
    const list = await (await api.app.request("/v1/jobs", { headers: auth() })).text();
    expect(list).not.toContain("s3cret-source");
  });

  it("Idempotency-Key: same key + body → same job (also when racing); other body → 409", async () => {
    const api = buildApi();
    const headers = { "idempotency-key": "deploy-42" };
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => api.app.request("/v1/jobs", jsonBody(SPEC, ADMIN_KEY, headers))),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(await Promise.all(replies.map(async (r) => ((await r.json()) as JobView).id)));
    expect(ids.size).toBe(1);
    expect(api.runner.calls.filter((c) => c.op === "start")).toHaveLength(1);
    // Key order does not make a different body.
    const reordered = Object.fromEntries(Object.entries(SPEC).reverse());
    expect((await api.app.request("/v1/jobs", jsonBody(reordered, ADMIN_KEY, headers))).status).toBe(200);
    const other = await api.app.request("/v1/jobs", jsonBody({ ...SPEC, maxOps: 10 }, ADMIN_KEY, headers));
    expect(other.status).toBe(409);
    expect(((await other.json()) as { detail: string }).detail).toMatch(/Idempotency-Key/);
    // Without a key every POST is a new job.
    const a = await create(api);
    const b = await create(api);
    expect(a.id).not.toBe(b.id);
  });

  it("lists with paging and filters by state and label", async () => {
    const api = buildApi();
    const jobs: JobView[] = [];
    for (let i = 0; i < 7; i++)
      jobs.push(await create(api, { ...SPEC, labels: { team: i % 2 ? "odd" : "even" } }));
    await act(api, jobs[0]!.id, "pause");
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const url = `/v1/jobs?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = (await (await api.app.request(url, { headers: auth() })).json()) as {
        jobs: JobView[];
        cursor?: string;
      };
      expect(page.jobs.length).toBeLessThanOrEqual(3);
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(jobs.map((j) => j.id).sort());
    const paused = (await (await api.app.request("/v1/jobs?state=paused", { headers: auth() })).json()) as {
      jobs: JobView[];
    };
    expect(paused.jobs.map((j) => j.id)).toEqual([jobs[0]!.id]);
    const odd = (await (await api.app.request("/v1/jobs?label=team%3Dodd", { headers: auth() })).json()) as {
      jobs: JobView[];
    };
    expect(odd.jobs).toHaveLength(3);
    expect(odd.jobs.every((j) => j.labels["team"] === "odd")).toBe(true);
  });

  it("404 problem for an unknown job", async () => {
    const api = buildApi();
    const res = await api.app.request("/v1/jobs/job-0000000000000000", { headers: auth() });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("transitions", () => {
  it("pause → resume → stop drives the runner and the stored state", async () => {
    const api = buildApi();
    const job = await create(api);
    api.runner.report(job.id, { phase: "streaming", shards: [{ shard: "standalone", lagBytes: 10 }] });
    await new Promise((r) => setTimeout(r, 10));
    expect((await state(api, job.id)).state).toBe("streaming");

    const pause = await act(api, job.id, "pause");
    expect(pause.status).toBe(200);
    expect(((await pause.json()) as { job: JobView }).job.state).toBe("paused");
    expect((await act(api, job.id, "pause")).status).toBe(409);
    const resume = await act(api, job.id, "resume");
    expect(((await resume.json()) as { job: JobView }).job.state).toBe("streaming");
    expect((await act(api, job.id, "resume")).status).toBe(409);
    const del = await api.app.request(`/v1/jobs/${job.id}`, { method: "DELETE", headers: auth() });
    expect(del.status).toBe(409); // still running
    const stop = await act(api, job.id, "stop");
    expect(stop.status).toBe(200);
    await new Promise((r) => setTimeout(r, 10));
    const done = await state(api, job.id);
    expect(done.state).toBe("completed");
    expect(done.actions).toEqual(["delete"]);
    expect(api.runner.calls.map((c) => c.op)).toEqual(["start", "pause", "resume", "stop"]);
    const deleted = await api.app.request(`/v1/jobs/${job.id}`, { method: "DELETE", headers: auth() });
    expect(await deleted.json()).toEqual({ id: job.id, deleted: true, markersRemoved: 1 });
    expect((await api.app.request(`/v1/jobs/${job.id}`, { headers: auth() })).status).toBe(404);
  });

  it("accepts a percent-encoded colon in the action path", async () => {
    const api = buildApi();
    const job = await create(api);
    const res = await api.app.request(`/v1/jobs/${job.id}%3Apause`, { method: "POST", headers: auth() });
    expect(res.status).toBe(200);
    expect((await state(api, job.id)).state).toBe("paused");
  });

  it("20 concurrent pauses: exactly one wins, 19 get 409", async () => {
    const api = buildApi();
    const job = await create(api);
    const replies = await Promise.all(Array.from({ length: 20 }, () => act(api, job.id, "pause")));
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    expect(api.runner.calls.filter((c) => c.op === "pause")).toHaveLength(1);
    const loser = replies.find((r) => r.status === 409)!;
    expect(loser.headers.get("content-type")).toContain("application/problem+json");
  });

  it("If-Match: a stale version is refused with 409, the current one accepted", async () => {
    const api = buildApi();
    const job = await create(api);
    const current = await api.app.request(`/v1/jobs/${job.id}`, { headers: auth() });
    const etag = current.headers.get("etag")!;
    expect((await act(api, job.id, "pause", { "if-match": `"${job.version - 1}"` })).status).toBe(409);
    expect((await act(api, job.id, "pause", { "if-match": etag })).status).toBe(200);
    expect((await act(api, job.id, "resume", { "if-match": etag })).status).toBe(409);
  });

  it("cutover waits for lag 0: 202 while draining, then completed and synced", async () => {
    const api = buildApi();
    const job = await create(api);
    api.runner.report(job.id, {
      phase: "streaming",
      shards: [{ shard: "standalone", appliedOffset: 900, sourceOffset: 1000, lagBytes: 100 }],
    });
    await new Promise((r) => setTimeout(r, 10));
    const draining = await act(api, job.id, "cutover", {}, "?wait=1");
    expect(draining.status).toBe(202);
    expect(((await draining.json()) as { synced: boolean }).synced).toBe(false);
    expect((await state(api, job.id)).state).toBe("stopping");
    expect((await act(api, job.id, "pause")).status).toBe(409);
    setTimeout(() => {
      api.runner.report(job.id, { shards: [{ shard: "standalone", appliedOffset: 1000, lagBytes: 0 }] });
    }, 50);
    // A second cutover joins the one in progress.
    const synced = await act(api, job.id, "cutover", {}, "?wait=5");
    expect(synced.status).toBe(409); // stopping: the first cutover owns the job now
    await new Promise((r) => setTimeout(r, 100));
    const done = await state(api, job.id);
    expect(done.state).toBe("completed");
    expect(done.events.some((e) => e.message.includes("cutover: synced (standalone@1000)"))).toBe(true);
  });

  it("cutover that syncs within ?wait answers 200 synced", async () => {
    const api = buildApi();
    const job = await create(api);
    api.runner.report(job.id, {
      phase: "streaming",
      shards: [{ shard: "s1", lagBytes: 5, appliedOffset: 5 }],
    });
    await new Promise((r) => setTimeout(r, 10));
    setTimeout(
      () => api.runner.report(job.id, { shards: [{ shard: "s1", lagBytes: 0, appliedOffset: 10 }] }),
      50,
    );
    const res = await act(api, job.id, "cutover", {}, "?wait=5");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { job: JobView; synced: boolean };
    expect(body.synced).toBe(true);
    expect(body.job.state).toBe("completed");
  });

  it("a runner failure fails the job with the error and its advice", async () => {
    const api = buildApi();
    const job = await create(api);
    api.runner.fail(job.id, "NOAUTH Authentication required", "set the source password");
    await new Promise((r) => setTimeout(r, 10));
    const failed = await state(api, job.id);
    expect(failed.state).toBe("failed");
    expect(failed.lastError).toEqual({
      message: "NOAUTH Authentication required",
      advice: "set the source password",
    });
    expect(failed.events.at(-1)?.level).toBe("error");
  });
});

describe("metrics and documents", () => {
  it("exports per job/shard gauges", async () => {
    const api = buildApi();
    const job = await create(api);
    api.runner.report(job.id, {
      phase: "streaming",
      shards: [
        {
          shard: "m1",
          opsApplied: 1234,
          lagBytes: 77,
          lagSeconds: 1.5,
          reconnects: 2,
          errors: 3,
          appliedOffset: 9,
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 10)); // the streaming phase is stored asynchronously
    const text = await (await api.app.request("/metrics", { headers: auth() })).text();
    expect(text).toContain(`ferry_job_applied_ops{job="${job.id}",shard="m1"} 1234`);
    expect(text).toContain(`ferry_job_lag_bytes{job="${job.id}",shard="m1"} 77`);
    expect(text).toContain(`ferry_job_lag_seconds{job="${job.id}",shard="m1"} 1.5`);
    expect(text).toContain(`ferry_job_reconnects{job="${job.id}",shard="m1"} 2`);
    expect(text).toContain(`ferry_job_errors{job="${job.id}",shard="m1"} 3`);
    expect(text).toContain(`ferry_job_state{job="${job.id}",state="streaming"} 1`);
  });

  it("serves a valid OpenAPI 3.1 document listing every route, and a docs page", async () => {
    const api = buildApi();
    const doc = (await (await api.app.request("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        "post /v1/jobs",
        "get /v1/jobs",
        "get /v1/jobs/{id}",
        "delete /v1/jobs/{id}",
        "post /v1/jobs/{id}:pause",
        "post /v1/jobs/{id}:resume",
        "post /v1/jobs/{id}:stop",
        "post /v1/jobs/{id}:cutover",
        "get /v1/jobs/{id}/events",
        "post /v1/check",
        "get /healthz",
        "get /metrics",
      ].sort(),
    );
    const docs = await api.app.request("/docs");
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(await docs.text()).toContain("openapi.json");
  });
});

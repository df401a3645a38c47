/**
 * The console's pure parts, in Node: the SSE parser at every split point, and the form ↔ spec
 * mapping — checked against the real API so browser and server name the same fields.
 */
import { describe, expect, it } from "vitest";
import { EMPTY_FORM, fieldOf, formToSpec, type SpecForm, validate } from "../../console/src/lib/specForm.ts";
import { SseParser } from "../../console/src/lib/sseParser.ts";
import type { Problem } from "../../core/api/problem.ts";
import { buildApi, jsonBody } from "../api/setup.ts";

describe("SseParser", () => {
  const wire =
    'event: snapshot\r\nid: 0\r\ndata: {"a":1}\r\n\r\n: comment\n' +
    "event: progress\ndata: line1\ndata: line2\n\n" +
    "event: heartbeat\rdata: {}\r\r" +
    "data:no-space\n\n";
  const expected = [
    ["snapshot", '{"a":1}'],
    ["progress", "line1\nline2"],
    ["heartbeat", "{}"],
    ["message", "no-space"],
  ];

  it("gives the same events for every split of the stream into two chunks", () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const events: string[][] = [];
      const parser = new SseParser((type, data) => events.push([type, data]));
      parser.push(wire.slice(0, cut));
      parser.push(wire.slice(cut));
      expect(events, `split at ${cut}`).toEqual(expected);
    }
  });

  it("gives the same events fed one character at a time", () => {
    const events: string[][] = [];
    const parser = new SseParser((type, data) => events.push([type, data]));
    for (const ch of wire) parser.push(ch);
    expect(events).toEqual(expected);
  });
});

const form = (patch: Partial<SpecForm>): SpecForm => ({
  ...EMPTY_FORM,
  source: "redis://10.0.0.5:6379",
  target: "redis://10.0.0.6:6379",
  ...patch,
});

describe("new-migration form", () => {
  it("builds the API body: secret references, sizes, db map, TLS, labels", () => {
    const { body, errors } = formToSpec(
      form({
        name: "orders",
        targetKind: "env",
        target: "FERRY_TARGET_URL",
        dbMap: "0=0, 3=1",
        bigKeyThreshold: "64mb",
        maxOps: "5000",
        maxBytes: "1048576",
        tlsInsecure: true,
        labels: "team=payments\nenv=prod",
      }),
    );
    expect(errors).toEqual({});
    expect(body).toEqual({
      name: "orders",
      source: "redis://10.0.0.5:6379",
      target: { secret: { env: "FERRY_TARGET_URL" } },
      mode: "full+incremental",
      dbMap: { "0": 0, "3": 1 },
      bigKeyThreshold: "64mb",
      maxOps: 5000,
      maxBytes: 1048576,
      tls: { insecure: true },
      labels: { team: "payments", env: "prod" },
    });
    expect(validate(body)).toEqual({});
  });

  it("reports a malformed pair itself instead of guessing", () => {
    expect(formToSpec(form({ dbMap: "0=1, 3" })).errors).toEqual({ dbMap: '"3" is not key=value' });
  });

  const bad: Array<[string, Partial<SpecForm>, string]> = [
    ["a URL without scheme", { source: "localhost:6379" }, "source"],
    ["a bad env name", { targetKind: "env", target: "1BAD" }, "target"],
    ["a relative secret file", { sourceKind: "file", source: "secrets/url" }, "source"],
    ["a negative rate", { maxOps: "-1" }, "maxOps"],
    ["a size that is not one", { bigKeyThreshold: "huge" }, "bigKeyThreshold"],
    ["a db out of range", { dbMap: "0=70000" }, "dbMap"],
    ["an upper-case label key", { labels: "Team=x" }, "labels"],
    ["a bad PSYNC name", { psyncCommand: "1psync" }, "psyncCommand"],
  ];

  it.each(bad)("names the same field as the server's problem+json for %s", async (_, patch, field) => {
    const { body } = formToSpec(form(patch));
    const browser = validate(body);
    expect(Object.keys(browser)).toEqual([field]);
    const { app } = buildApi();
    const res = await app.request("/v1/jobs", jsonBody(body));
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Problem;
    expect([...new Set((problem.errors ?? []).map((e) => fieldOf(e.path)))]).toEqual([field]);
  });
});

import { describe, expect, it } from "vitest";
import {
  backlogVerdict,
  outputBufferVerdict,
  parseOutputBufferLimit,
  parseSize,
  rdbVersionOf,
  restoreCompatibility,
  targetMemoryVerdict,
} from "../../core/check/advice.ts";
import { aclRulesAllowPsync } from "../../core/check/source.ts";

const MB = 1024 * 1024;

// Only one redis-server version is installed here, so the "target older than source" decision is
// proven on the decision function itself.
describe("restoreCompatibility", () => {
  it("maps server versions to their RDB version", () => {
    expect(rdbVersionOf({ server: "redis", version: "7.0.15" })).toBe(10);
    expect(rdbVersionOf({ server: "redis", version: "7.2.4" })).toBe(11);
    expect(rdbVersionOf({ server: "redis", version: "7.4.1" })).toBe(12);
    expect(rdbVersionOf({ server: "redis", version: "6.2.16" })).toBe(9);
    expect(rdbVersionOf({ server: "valkey", version: "8.0.1" })).toBe(11);
    expect(rdbVersionOf({ server: "valkey", version: "9.0.0" })).toBe(80);
  });
  it("older target → WARN: values rewritten as commands", () => {
    const v = restoreCompatibility(
      { server: "redis", version: "7.2.4" },
      { server: "redis", version: "6.2.16" },
    );
    expect(v.status).toBe("warn");
    expect(v.advice).toContain("rewritten as plain commands");
  });
  it("same or newer target → OK", () => {
    expect(
      restoreCompatibility({ server: "redis", version: "6.2.6" }, { server: "redis", version: "7.0.15" })
        .status,
    ).toBe("ok");
    expect(
      restoreCompatibility({ server: "redis", version: "7.0.15" }, { server: "redis", version: "7.0.15" })
        .status,
    ).toBe("ok");
  });
});

describe("buffers", () => {
  it("parses client-output-buffer-limit as CONFIG GET returns it", () => {
    expect(
      parseOutputBufferLimit("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    ).toEqual({
      hard: 268435456,
      soft: 67108864,
      softSeconds: 60,
    });
    expect(parseSize("64mb")).toBe(64 * MB);
    expect(parseSize("50m")).toBe(50_000_000);
  });
  it("backlog: seconds of writes held", () => {
    expect(backlogVerdict(MB, 0).status).toBe("ok");
    expect(backlogVerdict(100 * MB, MB).status).toBe("ok");
    const v = backlogVerdict(MB, MB);
    expect(v.status).toBe("warn");
    expect(v.message).toContain("holds 1.0 s of writes");
    expect(v.advice).toMatch(/^CONFIG SET repl-backlog-size 300mb/);
  });
  it("output buffer: fail when the snapshot-time writes exceed the hard limit, warn under 2× headroom", () => {
    const limit = { hard: 256 * MB, soft: 64 * MB, softSeconds: 60 };
    // 10 GB at 50 MB/s = 200 s; 1 MiB/s of writes → 200 MiB queued: past soft for > 60 s.
    expect(outputBufferVerdict(limit, MB, 10e9, 50e6).status).toBe("fail");
    // 1 GB → 20 s → 20 MiB: fits with headroom.
    expect(outputBufferVerdict(limit, MB, 1e9, 50e6).status).toBe("ok");
    expect(outputBufferVerdict({ hard: 0, soft: 0, softSeconds: 0 }, 100 * MB, 1e12, 50e6).status).toBe("ok");
    expect(outputBufferVerdict({ hard: 30 * MB, soft: 0, softSeconds: 0 }, MB, 1e9, 50e6).status).toBe(
      "warn",
    );
  });
  it("target memory", () => {
    expect(targetMemoryVerdict(0, 10 * MB).status).toBe("ok");
    expect(targetMemoryVerdict(5 * MB, 10 * MB).status).toBe("fail");
    expect(targetMemoryVerdict(11 * MB, 10 * MB).status).toBe("warn");
    expect(targetMemoryVerdict(20 * MB, 10 * MB).status).toBe("ok");
  });
  it("Redis 6 ACL rules: the last rule mentioning psync wins", () => {
    expect(aclRulesAllowPsync("+@all")).toBe(true);
    expect(aclRulesAllowPsync("+@all -psync")).toBe(false);
    expect(aclRulesAllowPsync("-@all +get +psync")).toBe(true);
    expect(aclRulesAllowPsync("+@read")).toBe(false);
  });
});

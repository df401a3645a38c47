import { spawnSync } from "node:child_process";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCheck } from "../../core/check/run.ts";
import type { CheckReport } from "../../core/check/types.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";

const FAST = { sampleSeconds: 0.6, scanSeconds: 1 };

function byId(report: CheckReport, id: string) {
  const found = report.results.filter((r) => r.id === id);
  expect(found.length, `check ${id} present`).toBeGreaterThan(0);
  return found[0]!;
}

/** Keeps the source busy: 1 KiB SETs in pipelines of 50 until stopped. */
function writeLoad(client: Redis): () => Promise<void> {
  let running = true;
  const value = Buffer.alloc(1024, 120);
  const loop = (async () => {
    let i = 0;
    while (running) {
      const p = client.pipeline();
      for (let j = 0; j < 50; j++) p.set(`load:${i++ % 2000}`, value);
      await p.exec();
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

describe("ferry check", () => {
  let good: RedisProc;
  let target: RedisProc;
  let bad: RedisProc;
  let badReplica: RedisProc;
  let badTarget: RedisProc;

  beforeAll(async () => {
    [good, target, bad, badTarget] = await Promise.all([
      startRedis(),
      startRedis(),
      startRedis({
        aclUsers: ["ferry on >pw ~* &* +@all -psync"],
        config: {
          "repl-backlog-size": "16kb",
          "client-output-buffer-limit": "replica 64kb 32kb 10",
          "repl-timeout": "10",
        },
      }),
      startRedis({ config: { "maxmemory-policy": "allkeys-lru" } }),
    ]);
    // A replica makes the backlog active, so master_repl_offset measures the write volume exactly.
    badReplica = await startRedis({ replicaOf: bad });
    await waitFor(async () => String(await bad.client().info("replication")).includes("connected_slaves:1"));
    await good.client().set("small", "value");
    await badTarget.client().set("already", "here");
  });
  afterAll(async () => {
    await Promise.all([good, target, bad, badReplica, badTarget].map((r) => r?.stop()));
  });

  it("good configuration → every check OK, exit code 0", async () => {
    const report = await runCheck({
      source: { host: "127.0.0.1", port: good.port },
      target: { host: "127.0.0.1", port: target.port },
      options: FAST,
    });
    const notOk = report.results.filter((r) => r.status !== "ok");
    expect(notOk).toEqual([]);
    expect(report.exitCode).toBe(0);
    expect(byId(report, "source.big-keys").message).toContain("scanned all 1 keys");
  });

  it("tiny backlog and output buffer under write load, user without +psync → WARN/FAIL with the CONFIG SET to run", async () => {
    const stop = writeLoad(bad.client());
    let report: CheckReport;
    try {
      report = await runCheck({
        source: { host: "127.0.0.1", port: bad.port, username: "ferry", password: "pw" },
        target: { host: "127.0.0.1", port: target.port },
        // A slow assumed snapshot rate makes the (small) test dataset take long enough to matter.
        options: { ...FAST, snapshotBytesPerSecond: 100_000 },
      });
    } finally {
      await stop();
    }
    const backlog = byId(report, "source.backlog");
    expect(backlog.status).toBe("warn");
    expect(backlog.message).toMatch(/repl-backlog-size 16\.0 KiB holds [\d.]+ (ms|s) of writes/);
    expect(backlog.advice).toMatch(/^CONFIG SET repl-backlog-size \d+mb/);
    const obuf = byId(report, "source.output-buffer");
    expect(obuf.status).toBe("fail");
    expect(obuf.advice).toMatch(/^CONFIG SET client-output-buffer-limit "replica \d+mb \d+mb 60"/);
    const acl = byId(report, "source.psync-acl");
    expect(acl.status).toBe("fail");
    expect(acl.message).toMatch(/user ferry may not run PSYNC/);
    expect(acl.advice).toBe("ACL SETUSER ferry +psync +replconf +ping");
    expect(byId(report, "source.repl-timeout").status).toBe("warn");
    expect(byId(report, "network.bandwidth").message).not.toContain("estimated");
    expect(report.exitCode).toBe(2);
  });

  it("PSYNC renamed away in the config file → FAIL naming --psync-command and --source-mode scan", async () => {
    const renamed = await startRedis({ config: { "rename-command": 'PSYNC ""' } });
    try {
      const report = await runCheck({
        source: { host: "127.0.0.1", port: renamed.port },
        target: { host: "127.0.0.1", port: target.port },
        options: FAST,
      });
      const psync = byId(report, "source.psync-command");
      expect(psync.status).toBe("fail");
      expect(psync.advice).toContain("--psync-command");
      expect(psync.advice).toContain("--source-mode scan");
      expect(report.exitCode).toBe(2);
    } finally {
      await renamed.stop();
    }
  });

  it("target that evicts and already holds keys → WARN", async () => {
    const report = await runCheck({
      source: { host: "127.0.0.1", port: good.port },
      target: { host: "127.0.0.1", port: badTarget.port },
      options: FAST,
    });
    expect(byId(report, "target.eviction")).toMatchObject({
      status: "warn",
      advice: "CONFIG SET maxmemory-policy noeviction",
    });
    expect(byId(report, "target.empty").message).toContain("already holds 1 keys");
    expect(report.exitCode).toBe(1);
  });

  it("unreachable target → FAIL line, not a crash", async () => {
    const report = await runCheck({
      source: { host: "127.0.0.1", port: good.port },
      target: { host: "127.0.0.1", port: 1 },
      options: FAST,
    });
    expect(byId(report, "target.connect")).toMatchObject({
      status: "fail",
      message: "cannot reach 127.0.0.1:1 — is Redis running there?",
    });
    expect(report.exitCode).toBe(2);
  });

  it("CLI --json: shape and exit code", () => {
    const run = spawnSync(
      process.execPath,
      [
        "bin/ferry.mjs",
        "check",
        "--source",
        good.url,
        "--target",
        badTarget.url,
        "--json",
        "--sample-seconds",
        "0.3",
        "--scan-seconds",
        "1",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as CheckReport;
    expect(report.exitCode).toBe(1);
    expect(report.summary.warn).toBeGreaterThan(0);
    for (const r of report.results) {
      expect(r).toMatchObject({
        id: expect.any(String),
        side: expect.stringMatching(/^(source|target|network)$/),
        status: expect.stringMatching(/^(ok|warn|fail)$/),
        message: expect.any(String),
      });
    }
  });

  it("CLI: malformed URL → exit 2 with the reason", () => {
    const run = spawnSync(
      process.execPath,
      ["bin/ferry.mjs", "check", "--source", "localhost:6379", "--target", target.url],
      { encoding: "utf8", timeout: 30_000 },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("missing scheme");
  });
});

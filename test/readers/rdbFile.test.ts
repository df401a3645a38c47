/**
 * Issue #12, `--source-rdb`: every generated RDB of the corpus restored through the RdbRestoreJob
 * into a real Redis 7.0 and compared with its .json (RESTORE where 7.0 takes the payload version,
 * the rewrite path for RDB 11+), read from a local file, from a node:http server, and from an S3
 * GetObject answered by a local node:http stub (no offline S3 emulator runs here).
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3RdbOpener } from "../../core/adapters/s3/rdbObject.ts";
import type { FilterSpec } from "../../core/filters/index.ts";
import { silentLogger } from "../../core/observability/logger.ts";
import type { OpenRdbOptions } from "../../core/readers/rdbFile/input.ts";
import { type RdbJobStatus, RdbRestoreJob } from "../../core/readers/rdbFile/job.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";
import { type Fixture, normalizeFixture, readKeyspace } from "../snapshot/expected.ts";
import { syncConfig } from "../sync/setup.ts";

const DIR = join(import.meta.dirname, "../fixtures/rdb-corpus/generated");
const fixture = (name: string) => JSON.parse(readFileSync(join(DIR, `${name}.json`), "utf8")) as Fixture;

/** Serves DIR over HTTP; `/bucket/<name>` too, as a path-style S3 GetObject. Records request paths. */
async function serveDir(): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const name = (req.url ?? "").split("?")[0]!.split("/").pop()!;
    const path = join(DIR, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      res.writeHead(404, { "content-type": "application/xml" });
      res.end("<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>");
      return;
    }
    res.writeHead(200, { "content-length": size, "content-type": "application/octet-stream", etag: '"x"' });
    createReadStream(path, { highWaterMark: 4096 }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests };
}

describe("RDB-file restore", () => {
  let target: RedisProc;
  let client: Redis;
  let http: Awaited<ReturnType<typeof serveDir>>;

  beforeAll(async () => {
    [target, http] = await Promise.all([startRedis(), serveDir()]);
    client = target.client();
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.server.close(resolve));
    await target?.stop();
  });

  async function restore(
    location: string,
    filters?: FilterSpec,
    input?: OpenRdbOptions,
  ): Promise<RdbJobStatus> {
    await client.flushall();
    await client.call("FUNCTION", "FLUSH");
    const job = await RdbRestoreJob.open({
      config: syncConfig("redis://127.0.0.1:1", target.url, { job: "rdb-test" }),
      location,
      log: silentLogger(),
      ...(filters ? { filters } : {}),
      ...(input ? { input } : {}),
    });
    return job.run();
  }

  async function expectKeyspace(name: string, drop: (key: string) => boolean = () => false) {
    const expected = fixture(name);
    for (const db of Object.values(expected.dbs))
      for (const key of Object.keys(db)) if (drop(Buffer.from(key, "base64").toString())) delete db[key];
    expect(await readKeyspace(client, Object.keys(expected.dbs).map(Number))).toEqual(
      normalizeFixture(expected),
    );
    if (expected.function_names) {
      const libs = (await client.call("FUNCTION", "LIST")) as unknown[][];
      expect(libs.map((l) => String(l[1]))).toEqual(expected.function_names);
    }
    // One-off restore: no marker is left behind.
    expect(await client.keys("__ferry:*")).toEqual([]);
  }

  for (const name of ["redis-6.2.16", "redis-7.0.15", "redis-7.2.6", "valkey-unstable-20241025"]) {
    it(`${name} from a local file equals its .json`, async () => {
      const status = await restore(join(DIR, `${name}.rdb`));
      await expectKeyspace(name);
      const reader = status.reader as {
        mode: string;
        done: boolean;
        checksumOk: boolean | null;
        translated: Record<string, number>;
      };
      expect(status.phase).toBe("synced");
      expect(reader).toMatchObject({ mode: "rdb", done: true });
      expect(status.totals.snapshotBytesDone).toBe(statSync(join(DIR, `${name}.rdb`)).size);
      expect(status.totals.snapshotBytesTotal).toBe(status.totals.snapshotBytesDone);
      // 7.0 takes RDB ≤ 10 payloads as they are; RDB 11 (7.2, Valkey) goes through the rewrite.
      const rdb11 = name === "redis-7.2.6" || name.startsWith("valkey");
      expect(reader.translated[rdb11 ? "rewritten" : "restored"]).toBe(reader.translated["keys"]);
    });
  }

  it("redis-7.4.1: hash field TTLs need a 7.4 target; the rest restores with them filtered out", async () => {
    const file = join(DIR, "redis-7.4.1.rdb");
    await expect(restore(file)).rejects.toThrow(/TTL/);
    await restore(file, { excludeGlobs: ["hfe:*"] });
    await expectKeyspace("redis-7.4.1", (key) => key.startsWith("hfe:"));
  });

  it("streams from an http:// URL with progress from Content-Length", async () => {
    const status = await restore(`${http.url}/files/redis-7.0.15.rdb?token=secret`);
    await expectKeyspace("redis-7.0.15");
    expect(status.source).toBe(`${http.url}/files/redis-7.0.15.rdb`);
    expect(status.totals.snapshotBytesTotal).toBe(statSync(join(DIR, "redis-7.0.15.rdb")).size);
    await expect(restore(`${http.url}/files/missing.rdb`)).rejects.toThrow(/404/);
  });

  it("streams an s3://bucket/key object (GetObject answered by a local HTTP stub)", async () => {
    const s3 = s3RdbOpener({
      endpoint: http.url,
      forcePathStyle: true,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    const status = await restore("s3://dumps/nightly/redis-7.2.6.rdb", undefined, { s3 });
    await expectKeyspace("redis-7.2.6");
    expect(http.requests).toContain("/dumps/nightly/redis-7.2.6.rdb?x-id=GetObject");
    expect(status.totals.snapshotBytesTotal).toBe(statSync(join(DIR, "redis-7.2.6.rdb")).size);
    await expect(restore("s3://dumps/none.rdb", undefined, { s3 })).rejects.toThrow(/NoSuchKey|404/);
  });

  it("applies filters: prefixes, dbs, types, db map and renames", async () => {
    const status = await restore(join(DIR, "redis-7.0.15.rdb"), {
      excludeTypes: ["stream"],
      excludeDbs: [0],
      dbMap: { "3": 4 },
      renamePrefixes: [{ from: "db3:", to: "moved:" }],
    });
    await client.select(4);
    expect(await client.get("moved:key")).toBe("in db 3");
    await client.select(0);
    expect(await client.dbsize()).toBe(0);
    expect(status.filtered.keys).toBeGreaterThan(5);
  });
});

describe("RDB-file restore of a truncated file", () => {
  it("fails with the parser's error instead of reporting success", async () => {
    const target = await startRedis();
    const dir = mkdtempSync(join(tmpdir(), "ferry-rdb-"));
    try {
      const whole = readFileSync(join(DIR, "redis-7.0.15.rdb"));
      const file = join(dir, "truncated.rdb");
      writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
      const job = await RdbRestoreJob.open({
        config: syncConfig("redis://127.0.0.1:1", target.url, { job: "rdb-truncated" }),
        location: file,
        log: silentLogger(),
      });
      await expect(job.run()).rejects.toThrow(/truncated|end of|EOF|incomplete/i);
      expect(job.status().phase).toBe("failed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await target.stop();
    }
  });
});

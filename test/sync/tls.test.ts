/**
 * rediss:// end to end: a TLS-only view of the source (its tls-port), certificates from a throwaway
 * CA made with openssl. Verified by default; an unknown CA fails with a clear message; the explicit
 * --source-tls-ca and --tls-insecure both work.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareServers } from "../helpers/compare.ts";
import { fillDataset } from "../helpers/load.ts";
import { freePort, type RedisProc, startRedis } from "../helpers/redis.ts";

const ferry = new URL("../../bin/ferry.mjs", import.meta.url).pathname;
let dir: string;
let source: RedisProc;
let target: RedisProc;
let tlsPort: number;

function makeCertificates(into: string): void {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: into, stdio: "ignore" });
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=ferry-test-ca",
  );
  run(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  );
  writeFileSync(join(into, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
}

function sync(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [ferry, "sync", "--until-synced", "--log-format", "json", ...args],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ferry-tls-"));
  makeCertificates(dir);
  tlsPort = await freePort();
  source = await startRedis({
    config: {
      "tls-port": String(tlsPort),
      "tls-cert-file": join(dir, "server.crt"),
      "tls-key-file": join(dir, "server.key"),
      "tls-ca-cert-file": join(dir, "ca.crt"),
      "tls-auth-clients": "no",
      "tls-replication": "yes",
    },
  });
  target = await startRedis();
  await fillDataset(source.client(), { keys: 150 });
});

afterAll(async () => {
  await source?.stop();
  await target?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("ferry sync over TLS (rediss://)", () => {
  it("refuses a certificate from an unknown CA with a clear message", async () => {
    const { code, stderr } = await sync([
      "--source",
      `rediss://127.0.0.1:${tlsPort}`,
      "--target",
      target.url,
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/certificate/i);
    expect(await target.client().dbsize()).toBe(0);
  });

  it("replicates through TLS when the CA is given, and the copy is identical", async () => {
    const { code, stderr } = await sync([
      "--source",
      `rediss://127.0.0.1:${tlsPort}`,
      "--source-tls-ca",
      join(dir, "ca.crt"),
      "--target",
      target.url,
      "--job",
      "tls-ca",
    ]);
    expect(stderr).not.toMatch(/"level":50/);
    expect(code).toBe(0);
    expect(await compareServers(source.client(), target.client(), { dbs: [0, 1] })).toEqual([]);
  });

  it("accepts any certificate only when --tls-insecure is explicit", async () => {
    await source.client().set("after-insecure", "1");
    const { code } = await sync([
      "--source",
      `rediss://127.0.0.1:${tlsPort}`,
      "--tls-insecure",
      "--target",
      target.url,
      "--job",
      "tls-ca",
    ]);
    expect(code).toBe(0);
    expect(await target.client().get("after-insecure")).toBe("1");
  });
});

/**
 * Issue #4: wrong connection settings end the CLI with ONE clear message naming the option to fix
 * (--source/--target, FERRY_SOURCE_PASSWORD…), a non-zero exit code, no password on the output —
 * and never a hang.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { freePort, type RedisProc, startRedis } from "../helpers/redis.ts";
import { expectFailure, SOURCE_PASSWORD, TARGET_PASSWORD } from "./failure.ts";

describe("ferry sync: bad connection settings", () => {
  let source: RedisProc;
  let target: RedisProc;
  let http: Server;
  let httpPort: number;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis({ password: SOURCE_PASSWORD }), startRedis()]);
    http = createServer((_req, res) => res.end("hello\n"));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    httpPort = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const targetUrl = () => `redis://127.0.0.1:${target.port}`;

  it("unreachable host", async () => {
    const port = await freePort();
    await expectFailure(["--source", source.url, "--target", `redis://127.0.0.1:${port}`], {
      code: 1,
      message: new RegExp(`--target: cannot reach 127\\.0\\.0\\.1:${port}`),
      advice: /check the host, the port/,
    });
  });

  it("wrong password (the password is never printed)", async () => {
    await expectFailure(
      ["--source", `redis://:${TARGET_PASSWORD}@127.0.0.1:${source.port}`, "--target", targetUrl()],
      { code: 1, message: /--source: wrong password for user default/, advice: /FERRY_SOURCE_PASSWORD/ },
    );
  });

  it("missing password", async () => {
    await expectFailure(["--source", `redis://127.0.0.1:${source.port}`, "--target", targetUrl()], {
      code: 1,
      message: /--source: 127\.0\.0\.1:\d+ requires a password/,
      advice: /FERRY_SOURCE_PASSWORD/,
    });
  });

  it("a port that does not speak Redis (an HTTP server)", async () => {
    await expectFailure(["--source", source.url, "--target", `redis://127.0.0.1:${httpPort}`], {
      code: 1,
      message: new RegExp(`--target: 127\\.0\\.0\\.1:${httpPort} (does not speak the Redis protocol|closed)`),
      advice: /check the port/,
    });
  });

  // Independent CLI runs go in parallel: each one pays Node + tsx start-up.
  it("malformed URLs (exit 2, password masked)", async () => {
    await Promise.all([
      expectFailure(["--source", `redis://:${SOURCE_PASSWORD}@host:99999`, "--target", targetUrl()], {
        code: 2,
        message: /not a valid Redis URL|invalid port/,
        advice: /redis:\/\//,
      }),
      expectFailure(["--source", source.url, "--target", `127.0.0.1:${target.port}`], {
        code: 2,
        message: /is not a Redis URL \(missing scheme\)/,
        advice: /write it as redis:\/\/127\.0\.0\.1/,
      }),
      expectFailure(["--source", source.url], {
        code: 2,
        message: /--target is required/,
        advice: /--target redis:\/\//,
      }),
    ]);
  });

  it("malformed config files: the line is named, the content (with its password) is not shown", async () => {
    const toml = join(source.dir, "broken.toml");
    writeFileSync(toml, `source = "${source.url}"\ntarget = [1\n`);
    const json = join(source.dir, "broken.json");
    writeFileSync(json, `{ "source": "${source.url}", "target" }`);
    const unknown = join(source.dir, "unknown.toml");
    writeFileSync(unknown, `source = "${source.url}"\nqueue = "1mb"\n`);
    await Promise.all([
      expectFailure(["--config", toml], {
        code: 2,
        message: /broken\.toml is not valid: .*\(line [23], column \d+\)/,
        advice: /fix the file/,
      }),
      expectFailure(["--config", json], {
        code: 2,
        message: /broken\.json is not valid: invalid JSON/,
        advice: /fix the file/,
      }),
      expectFailure(["--config", unknown], {
        code: 2,
        message: /unknown option "queue" in .*unknown\.toml/,
        advice: /long option names/,
      }),
    ]);
  });
});

/**
 * A target URL whose credentials do not fit the target: one clear FatalError from the writer, the
 * same words the ioredis connections use (core/connect), and never the password itself.
 *
 * The case that used to leak: a password given to a target without one. ioredis only warns about
 * it (and connects), so the writer's raw transaction connection was the first to see
 * "ERR AUTH <password> called without any password configured…" and passed it on as it was.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeConnectError } from "../../core/connect/client.ts";
import { FatalError, type FerryError } from "../../core/errors.ts";
import { createStandaloneWriter } from "../../core/writer/standalone.ts";
import { classifyTargetError } from "../../core/writer/targetErrors.ts";
import { TxConnection } from "../../core/writer/txConnection.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const SECRET = "hunter2-Zq9";

/** Everything a user or a log could see of an error: messages and advice down the cause chain. */
function shown(err: unknown): string {
  const parts: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) {
    parts.push(e.message, String((e as FerryError).advice ?? ""), String(e.stack ?? ""));
  }
  return parts.join("\n");
}

describe("writer AUTH errors", () => {
  let open: RedisProc;
  let secured: RedisProc;

  beforeAll(async () => {
    [open, secured] = await Promise.all([startRedis(), startRedis({ password: "right-pass" })]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), secured?.stop()]);
  });

  it("a password for a target that has none → FatalError: remove it from the URL", async () => {
    const err = await createStandaloneWriter({
      target: { host: open.host, port: open.port, password: SECRET },
    }).then(
      (writer) => writer.close().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).message).toBe(`127.0.0.1:${open.port} has no password set, but one was given`);
    expect((err as FatalError).advice).toMatch(/remove the password from the URL/);
    expect(shown(err)).not.toContain(SECRET);
  });

  it("a transaction sent on such a connection settles with that FatalError, not as a lost connection", async () => {
    const tx = new TxConnection({ host: open.host, port: open.port, password: SECRET });
    try {
      const [settled] = await tx.send([[Buffer.from("PING")]]);
      expect(settled?.ok).toBe(false);
      const verdict = classifyTargetError(settled && !settled.ok ? settled.error : null, [
        Buffer.from("MULTI"),
      ]);
      expect(verdict).toBeInstanceOf(FatalError);
      expect(verdict.message).toMatch(/has no password set/);
      expect(shown(verdict)).not.toContain(SECRET);
    } finally {
      tx.close();
    }
  });

  it("Redis ≤ 5 words it differently; the same mapping applies (no such server here to connect to)", () => {
    const endpoint = { host: "10.0.0.5", port: 6379, password: SECRET };
    const err = describeConnectError(
      [new Error("ERR Client sent AUTH, but no password is set")],
      endpoint,
      1000,
    );
    expect(err).toBeInstanceOf(FatalError);
    expect(err.message).toBe("10.0.0.5:6379 has no password set, but one was given");
  });

  it("a wrong password → FatalError naming the user, without the password", async () => {
    const tx = new TxConnection({ host: secured.host, port: secured.port, password: SECRET });
    try {
      const err = await tx.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FatalError);
      expect((err as FatalError).message).toBe(
        `wrong password for user default at 127.0.0.1:${secured.port}`,
      );
      expect(shown(err)).not.toContain(SECRET);
    } finally {
      tx.close();
    }
  });

  it("no password for a target that needs one → the writer says so", async () => {
    const err = await createStandaloneWriter({ target: { host: secured.host, port: secured.port } }).then(
      (writer) => writer.close().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FatalError);
    expect((err as FatalError).message).toMatch(/requires a password/);
  });

  it("a reply that echoes the password (as some proxies do) is redacted", async () => {
    // No proxy is installed here: a socket that answers AUTH the way a misbehaving proxy does.
    const clients = new Set<Socket>();
    const proxy: Server = createServer((socket) => {
      clients.add(socket);
      socket.on("data", () => socket.write(`-ERR invalid password '${SECRET}' for the default user\r\n`));
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const { port } = proxy.address() as { port: number };
    const tx = new TxConnection({ host: "127.0.0.1", port, password: SECRET });
    try {
      const err = await tx.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FatalError);
      expect((err as FatalError).message).toMatch(/refused AUTH: ERR invalid password '\*\*\*'/);
      expect(shown(err)).not.toContain(SECRET);
    } finally {
      tx.close();
      for (const socket of clients) socket.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

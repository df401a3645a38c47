import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FatalError, RetryableError } from "../../core/errors.ts";
import { CleanArrayReply } from "../../core/writer/replies.ts";
import { classifyTargetError, isReplyError } from "../../core/writer/targetErrors.ts";
import { TxConnection } from "../../core/writer/txConnection.ts";
import { type RedisProc, startRedis, waitFor } from "../helpers/redis.ts";

const argv = (...args: Array<string | number>): Buffer[] => args.map((a) => Buffer.from(String(a)));

describe("TxConnection: one write per transaction, replies in order", () => {
  let target: RedisProc;
  let secured: RedisProc;

  beforeAll(async () => {
    [target, secured] = await Promise.all([startRedis(), startRedis({ password: "s3cret" })]);
  });
  afterAll(async () => {
    await Promise.all([target?.stop(), secured?.stop()]);
  });

  it("settles every command of pipelined transactions, in order, errors as ReplyError", async () => {
    const conn = new TxConnection({ host: target.host, port: target.port });
    try {
      await conn.connect();
      const sends = Array.from({ length: 50 }, (_, i) =>
        conn.send([
          argv("MULTI"),
          argv("INCR", "tx:n"),
          argv("LPUSH", "tx:l", i),
          argv("EXEC"),
          argv("INCR", "tx:l"), // WRONGTYPE outside the transaction
          argv("GET", "tx:n"),
        ]),
      );
      const results = await Promise.all(sends);
      for (const [i, replies] of results.entries()) {
        expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, false, true]);
        expect(replies[0]).toEqual({ ok: true, value: "OK" });
        expect(replies[3]).toEqual({ ok: true, value: [i + 1, i + 1] });
        const failed = replies[4]!;
        expect(!failed.ok && isReplyError(failed.error) && failed.error.message).toMatch(/^WRONGTYPE/);
        expect(replies[5]).toEqual({ ok: true, value: Buffer.from(String(i + 1)) });
      }
      // An error inside EXEC comes back as a ReplyError element, as with ioredis.
      const [, , exec] = await conn.send([argv("MULTI"), argv("INCR", "tx:l"), argv("EXEC")]);
      expect(exec!.ok && Array.isArray(exec!.value) && isReplyError(exec!.value[0])).toBe(true);
    } finally {
      conn.close();
    }
  });

  it("countCleanArrays: an EXEC of +OK/:n lines settles as its length; one with an error element keeps its values", async () => {
    const conn = new TxConnection({ host: target.host, port: target.port }, { countCleanArrays: true });
    try {
      const [, , , , clean] = await conn.send([
        argv("MULTI"),
        argv("SET", "tx:c", "1"),
        argv("INCR", "tx:c"),
        argv("SET", "tx:d", "x"),
        argv("EXEC"),
      ]);
      expect(clean).toEqual({ ok: true, value: new CleanArrayReply(3) });
      const [, , , withError] = await conn.send([
        argv("MULTI"),
        argv("INCR", "tx:d"),
        argv("INCR", "tx:c"),
        argv("EXEC"),
      ]);
      expect(withError!.ok && Array.isArray(withError!.value)).toBe(true);
      const values = withError!.ok ? (withError!.value as unknown[]) : [];
      expect(isReplyError(values[0])).toBe(true);
      expect(values[1]).toBe(3);
      // Aborted (nil) and empty EXECs are not confused with clean ones.
      const empty = await conn.send([argv("MULTI"), argv("EXEC")]);
      expect(empty[1]).toEqual({ ok: true, value: new CleanArrayReply(0) });
      const watcher = target.client();
      await conn.send([argv("WATCH", "tx:c")]);
      await watcher.set("tx:c", "moved");
      const aborted = await conn.send([argv("MULTI"), argv("INCR", "tx:c"), argv("EXEC")]);
      expect(aborted[2]).toEqual({ ok: true, value: null });
    } finally {
      conn.close();
    }
  });

  it("a killed connection settles what was in flight as retryable; the next send reconnects", async () => {
    const conn = new TxConnection({ host: target.host, port: target.port }, { name: "txconn-kill" });
    const admin = target.client();
    try {
      await conn.connect();
      // A blocked BLPOP keeps the reply pending while the connection is killed from another client.
      const pending = conn.send([argv("SET", "tx:before", "1"), argv("BLPOP", "tx:never", 0)]);
      await waitFor(async () => /name=txconn-kill .*cmd=blpop/.test(String(await admin.client("LIST"))));
      await admin.client("KILL", "SKIPME", "yes", "USER", "default");
      const replies = await pending;
      expect(replies[0]).toEqual({ ok: true, value: "OK" });
      const lost = replies[1];
      expect(lost?.ok).toBe(false);
      expect(classifyTargetError(!lost!.ok ? lost!.error : null)).toBeInstanceOf(RetryableError);
      const again = await conn.send([argv("PING")]);
      expect(again).toEqual([{ ok: true, value: "PONG" }]);
    } finally {
      conn.close();
    }
  });

  it("authenticates, and a wrong password is a fatal error naming it", async () => {
    const good = new TxConnection({ host: secured.host, port: secured.port, password: "s3cret" });
    try {
      await good.connect();
      expect(await good.send([argv("PING")])).toEqual([{ ok: true, value: "PONG" }]);
    } finally {
      good.close();
    }
    const bad = new TxConnection({ host: secured.host, port: secured.port, password: "nope" });
    try {
      const err = await bad.connect().catch((e: unknown) => e);
      expect(classifyTargetError(err)).toBeInstanceOf(FatalError);
      expect(String((err as Error).message)).toMatch(/^wrong password for user default at /);
    } finally {
      bad.close();
    }
  });
});

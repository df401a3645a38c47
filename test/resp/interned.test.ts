import { describe, expect, it } from "vitest";
import { RespDecoder, SIMPLE_OK, SIMPLE_QUEUED } from "../../core/resp/decoder.ts";
import { NEED_MORE, RespSimpleString } from "../../core/resp/types.ts";

function decodeAll(bytes: string): unknown[] {
  const decoder = new RespDecoder();
  decoder.push(Buffer.from(bytes));
  const out: unknown[] = [];
  for (let frame = decoder.next(); frame !== NEED_MORE; frame = decoder.next()) out.push(frame.value);
  return out;
}

describe("simple strings a writer reads by the thousand", () => {
  it("+OK and +QUEUED come back as the shared instances; look-alikes are decoded as themselves", () => {
    const [ok, queued, ...others] = decodeAll(
      "+OK\r\n+QUEUED\r\n+QUEUEX\r\n+XUEUED\r\n+ok\r\n+OKAY\r\n+QUEUE\r\n",
    );
    expect(ok).toBe(SIMPLE_OK);
    expect(queued).toBe(SIMPLE_QUEUED);
    expect(others.map((v) => (v as RespSimpleString).value)).toEqual([
      "QUEUEX",
      "XUEUED",
      "ok",
      "OKAY",
      "QUEUE",
    ]);
    for (const v of others) {
      expect(v).toBeInstanceOf(RespSimpleString);
      expect(v).not.toBe(SIMPLE_OK);
      expect(v).not.toBe(SIMPLE_QUEUED);
    }
  });

  it("inside EXEC's array too", () => {
    const [exec] = decodeAll("*3\r\n+OK\r\n:5\r\n+OK\r\n");
    expect(exec).toEqual([SIMPLE_OK, 5, SIMPLE_OK]);
    expect((exec as unknown[])[0]).toBe(SIMPLE_OK);
  });

  it("skipRepeated consumes whole copies of a frame only, up to the limit, and never a partial one", () => {
    const decoder = new RespDecoder();
    const line = Buffer.from("+QUEUED\r\n");
    decoder.push(Buffer.from("+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+OK\r\n+QUEU"));
    expect(decoder.skipRepeated(line, 3)).toBe(3);
    expect(decoder.skipRepeated(line, 10)).toBe(1);
    expect(decoder.skipRepeated(line, 10)).toBe(0); // +OK is next
    const ok = decoder.next();
    expect(ok !== NEED_MORE && ok.value).toBe(SIMPLE_OK);
    expect(decoder.skipRepeated(line, 10)).toBe(0); // "+QUEU" is incomplete: left alone
    decoder.push(Buffer.from("ED\r\n"));
    const rest = decoder.next();
    expect(rest !== NEED_MORE && rest.value).toBe(SIMPLE_QUEUED);
  });
});

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
});

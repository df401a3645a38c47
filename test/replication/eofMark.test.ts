import { describe, expect, it } from "vitest";
import { EOF_MARK_LENGTH, EofMarkScanner } from "../../core/replication/eofMark.ts";

const mark = Buffer.from("0123456789abcdef0123456789abcdef01234567");

/** Scans `wire` cut at `cuts`; returns the payload and the bytes left after the mark. */
function scanAll(wire: Buffer, cuts: number[]): { payload: Buffer; rest: Buffer; done: boolean } {
  const scanner = new EofMarkScanner(mark);
  const payload: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, wire.length]) {
    const view = wire.subarray(from, to);
    const scan = scanner.scan(view);
    payload.push(...scan.payload);
    if (scan.done)
      return { payload: Buffer.concat(payload), rest: wire.subarray(from + scan.consumed), done: true };
    expect(scan.consumed).toBe(view.length);
    from = to;
  }
  return { payload: Buffer.concat(payload), rest: Buffer.alloc(0), done: false };
}

describe("EofMarkScanner (diskless $EOF:<mark> payloads)", () => {
  const rdb = Buffer.concat([
    Buffer.from("REDIS0011"),
    Buffer.alloc(100, 7),
    mark.subarray(0, 39),
    Buffer.from([0xff]),
  ]);
  const trailer = Buffer.from("*1\r\n$4\r\nPING\r\n");
  const wire = Buffer.concat([rdb, mark, trailer]);

  it("strips the mark whatever the read boundaries, even a payload ending exactly at a read", () => {
    // The payload contains 39 bytes of the mark: only the full mark may end it.
    for (let cut = 0; cut <= wire.length; cut++) {
      const result = scanAll(wire, [cut]);
      expect(result.done).toBe(true);
      expect(result.payload).toEqual(rdb);
      expect(result.rest).toEqual(trailer);
    }
    for (let a = 1; a < rdb.length + EOF_MARK_LENGTH; a += 7) {
      for (let b = a + 1; b < a + 45; b += 3) {
        const result = scanAll(wire, [a, b]);
        expect(result.payload).toEqual(rdb);
        expect(result.rest).toEqual(trailer);
      }
    }
  });

  it("byte by byte", () => {
    const result = scanAll(
      wire,
      Array.from({ length: wire.length - 1 }, (_, i) => i + 1),
    );
    expect(result.payload).toEqual(rdb);
    expect(result.rest).toEqual(trailer);
  });

  it("holds back at most 39 bytes until the mark shows up", () => {
    const scanner = new EofMarkScanner(mark);
    const scan = scanner.scan(Buffer.alloc(1000, 1));
    expect(scan.done).toBe(false);
    expect(Buffer.concat(scan.payload).length).toBe(1000 - (EOF_MARK_LENGTH - 1));
  });
});

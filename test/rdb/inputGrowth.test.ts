import { describe, expect, it } from "vitest";
import { ByteInput } from "../../core/rdb/input.ts";

const MiB = 1024 * 1024;

/** Pushes `total` bytes in 64 KiB chunks while a capture holds them all; returns every buffer used. */
function hold(input: ByteInput, total: number): Buffer[] {
  input.mark = 0;
  const seen: Buffer[] = [];
  for (let at = 0; at < total; at += 64 * 1024) {
    const chunk = Buffer.alloc(64 * 1024, at / (64 * 1024));
    input.push(chunk);
    if (seen.at(-1) !== input.buf) seen.push(input.buf);
  }
  return seen;
}

describe("ByteInput growth", () => {
  it("jumps to the reserve in one step once a held value passes 1 MiB, keeping every byte", () => {
    const reserve = 6 * MiB;
    const input = new ByteInput(reserve);
    const buffers = hold(input, 5 * MiB);
    const big = buffers.filter((b) => b.length > 2 * MiB);
    expect(big.map((b) => b.length)).toEqual([reserve]);
    expect(input.end).toBe(5 * MiB);
    for (let i = 0; i < 80; i++) expect(input.buf[i * 64 * 1024 + 5]).toBe(i % 256);
  });

  it("without a reserve, or past it, grows by a quarter rather than doubling", () => {
    const input = new ByteInput(2 * MiB);
    const buffers = hold(input, 12 * MiB);
    const sizes = buffers.map((b) => b.length).filter((n) => n > 2 * MiB);
    for (const size of sizes) expect(size).toBeLessThan(2 * 12 * MiB);
    expect(input.buf.length).toBeGreaterThanOrEqual(12 * MiB);
  });

  it("shrinks again at the next lack of room once the capture is released", () => {
    const input = new ByteInput(6 * MiB);
    hold(input, 5 * MiB);
    input.mark = -1;
    const held = input.buf;
    // Keep reading, each chunk consumed at once, until the buffer runs out of room.
    while (input.buf === held) {
      input.pos = input.end;
      input.push(Buffer.alloc(64 * 1024, 7));
    }
    expect(input.buf.length).toBeLessThanOrEqual(MiB);
    expect(input.available).toBe(64 * 1024);
    expect(input.buf[input.pos]).toBe(7);
  });
});

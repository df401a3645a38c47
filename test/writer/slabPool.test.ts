import { describe, expect, it } from "vitest";
import { SlabPool } from "../../core/writer/slabPool.ts";

describe("SlabPool", () => {
  it("hands out exact-size views of a slab and reuses a slab once it is given back", () => {
    const pool = new SlabPool(1024, 2);
    const a = pool.take(100);
    expect(a.length).toBe(100);
    expect(a.buffer.byteLength).toBe(1024);
    pool.give(a);
    const b = pool.take(300);
    expect(b.length).toBe(300);
    expect(b.buffer).toBe(a.buffer);
  });

  it("never lends one slab twice, even when it is given back twice", () => {
    const pool = new SlabPool(1024, 4);
    const a = pool.take(10);
    pool.give(a);
    pool.give(a); // e.g. a write callback run twice: must not put the slab in the pool again
    const b = pool.take(10);
    const c = pool.take(10);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(a.buffer);
  });

  it("gives bigger requests their own buffer and ignores them when given back", () => {
    const pool = new SlabPool(1024, 4);
    const big = pool.take(5000);
    expect(big.length).toBe(5000);
    pool.give(big);
    const next = pool.take(10);
    expect(next.buffer).not.toBe(big.buffer);
    expect(next.buffer.byteLength).toBe(1024);
  });

  it("keeps at most `keep` free slabs", () => {
    const pool = new SlabPool(1024, 1);
    const a = pool.take(10);
    const b = pool.take(10);
    pool.give(a);
    pool.give(b); // over the bound: left to the GC
    const c = pool.take(10);
    const d = pool.take(10);
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(b.buffer);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FatalError } from "../../core/errors.ts";
import type { Batch, Command } from "../../core/model.ts";
import { decodeBatch, encodeBatch } from "../../core/wire/index.ts";

const arg = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const offset = fc.maxSafeNat();

const command: fc.Arbitrary<Command> = fc
  .record(
    {
      argv: fc.array(arg, { minLength: 1, maxLength: 6 }),
      db: fc.nat({ max: 15 }),
      offset,
      seq: fc.nat({ max: 2 ** 40 }),
      txn: fc.nat({ max: 1000 }),
    },
    { requiredKeys: ["argv", "db", "offset"] },
  )
  .map((c) => c as Command);

const batch: fc.Arbitrary<Batch> = fc
  .record(
    {
      job: fc.string({ maxLength: 40 }),
      shard: fc.string({ maxLength: 40 }),
      replid: fc.stringMatching(/^[0-9a-f]{40}$/),
      kind: fc.constantFrom("snapshot" as const, "stream" as const),
      first: offset,
      last: offset,
      snapshotOffset: offset,
      endDb: fc.nat({ max: 15 }),
      after: offset,
      commands: fc.array(command, { maxLength: 20 }),
      bytes: fc.nat(),
    },
    { requiredKeys: ["job", "shard", "replid", "kind", "first", "last", "commands", "bytes"] },
  )
  .map((b) => b as Batch);

function streamBatch(commands: Command[]): Batch {
  let bytes = 0;
  for (const c of commands) for (const a of c.argv) bytes += a.length;
  return {
    job: "job-1",
    shard: "standalone",
    replid: "a".repeat(40),
    kind: "stream",
    first: commands[0]!.offset,
    last: commands.at(-1)!.offset,
    commands,
    bytes,
  };
}

describe("batch wire format", () => {
  it("round-trips any batch exactly (binary args, offsets up to 2^53, optional seq/txn)", () => {
    fc.assert(
      fc.property(batch, fc.boolean(), (b, compress) => {
        const bodies = encodeBatch(b, { compress });
        expect(bodies).toHaveLength(1);
        expect(decodeBatch(bodies[0]!)).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it("carries every Batch field (Required<Batch/Command>: a new field in core/model.ts fails to compile here)", () => {
    const command: Required<Command> = {
      argv: [Buffer.from("SET"), Buffer.from("k"), Buffer.from([0, 255])],
      db: 3,
      offset: 2 ** 33 + 5,
      seq: 1,
      txn: 4,
    };
    const full: Required<Batch> = {
      job: "j",
      shard: "s",
      replid: "r".repeat(40),
      kind: "stream",
      first: 2 ** 33,
      last: 2 ** 33 + 5,
      snapshotOffset: 17,
      commands: [command],
      bytes: 9,
      endDb: 3,
      after: 2 ** 33 - 1,
    };
    expect(decodeBatch(encodeBatch(full)[0]!)).toEqual(full);
  });

  it("splits at command boundaries, never inside a txn, and every part fits the cap", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ size: fc.integer({ min: 1, max: 300 }), txnLen: fc.integer({ min: 1, max: 3 }) }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        fc.integer({ min: 2000, max: 6000 }),
        (groups, maxBytes) => {
          const commands: Command[] = [];
          let off = 1000;
          groups.forEach((g, i) => {
            for (let k = 0; k < g.txnLen; k++) {
              off += 37;
              const c: Command = {
                argv: [Buffer.from("SET"), Buffer.from(`k${off}`), randomBytes(g.size)],
                db: 0,
                offset: off,
              };
              if (g.txnLen > 1) c.txn = i;
              commands.push(c);
            }
          });
          const b: Batch = { ...streamBatch(commands), endDb: 7, after: 1000 };
          // Random bytes do not compress, so the raw size decides.
          const bodies = encodeBatch(b, { maxBytes, compress: false });
          const parts = bodies.map(decodeBatch);
          for (const body of bodies) expect(body.length).toBeLessThanOrEqual(maxBytes);
          expect(parts.flatMap((p) => p.commands)).toEqual(commands);
          for (const p of parts) {
            expect(p.first).toBe(p.commands[0]!.offset);
            expect(p.last).toBe(p.commands.at(-1)!.offset);
            expect(p.job).toBe(b.job);
          }
          // The db after the batch belongs to its end only; earlier parts end at their last command.
          expect(parts.at(-1)!.endDb).toBe(7);
          for (const p of parts.slice(0, -1)) expect(p.endDb).toBeUndefined();
          // Each part continues from the one before it (the writer's gap check).
          expect(parts[0]!.after).toBe(1000);
          for (let i = 1; i < parts.length; i++) expect(parts[i]!.after).toBe(parts[i - 1]!.last);
          // A txn id appears in exactly one part.
          const txnPart = new Map<number, number>();
          parts.forEach((p, i) => {
            for (const c of p.commands) {
              if (c.txn === undefined) continue;
              expect(txnPart.get(c.txn) ?? i).toBe(i);
              txnPart.set(c.txn, i);
            }
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it("snapshot parts carry seq as first/last and keep the snapshot offset", () => {
    const commands: Command[] = Array.from({ length: 30 }, (_, i) => ({
      argv: [Buffer.from("RESTORE"), Buffer.from(`key${i}`), randomBytes(300)],
      db: 0,
      offset: 5000,
      seq: i + 1,
    }));
    const b: Batch = { ...streamBatch(commands), kind: "snapshot", first: 1, last: 30, snapshotOffset: 5000 };
    const parts = encodeBatch(b, { maxBytes: 2000, compress: false }).map(decodeBatch);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts[0]!.first).toBe(1);
    expect(parts.at(-1)!.last).toBe(30);
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.first).toBe(parts[i - 1]!.last + 1);
    for (const p of parts) expect(p.snapshotOffset).toBe(5000);
  });

  it("gzips compressible payloads and keeps what does not compress raw", () => {
    const repetitive = streamBatch([
      { argv: [Buffer.from("SET"), Buffer.from("k"), Buffer.alloc(100_000, "x")], db: 0, offset: 10 },
    ]);
    const [zipped] = encodeBatch(repetitive);
    expect(zipped!.length).toBeLessThan(2_000);
    expect(Buffer.from(zipped!, "base64")[3]).toBe(1);
    expect(decodeBatch(zipped!)).toEqual(repetitive);

    const noisy = streamBatch([
      { argv: [Buffer.from("SET"), Buffer.from("k"), randomBytes(10_000)], db: 0, offset: 10 },
    ]);
    const [raw] = encodeBatch(noisy);
    expect(Buffer.from(raw!, "base64")[3]).toBe(0);
  });

  it("a single command over the cap fails with advice to lower the big-key threshold", () => {
    const b = streamBatch([
      { argv: [Buffer.from("SET"), Buffer.from("small"), Buffer.from("v")], db: 0, offset: 1 },
      { argv: [Buffer.from("SET"), Buffer.from("big"), randomBytes(50_000)], db: 0, offset: 2 },
    ]);
    expect(() => encodeBatch(b, { maxBytes: 10_000 })).toThrow(FatalError);
    try {
      encodeBatch(b, { maxBytes: 10_000 });
    } catch (err) {
      expect((err as FatalError).advice).toMatch(/big-key threshold/);
      expect((err as FatalError).message).toMatch(/offset 2/);
    }
  });

  it("rejects foreign, truncated and future-version bodies with FatalError", () => {
    const [body] = encodeBatch(streamBatch([{ argv: [Buffer.from("PING")], db: 0, offset: 1 }]), {
      compress: false,
    });
    const raw = Buffer.from(body!, "base64");
    expect(() => decodeBatch(Buffer.from("hello").toString("base64"))).toThrow(/bad magic/);
    expect(() => decodeBatch(raw.subarray(0, raw.length - 2).toString("base64"))).toThrow(/truncated/);
    const future = Buffer.from(raw);
    future[2] = 9;
    expect(() => decodeBatch(future.toString("base64"))).toThrow(/wire version 9/);
  });
});

function randomBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * 256);
  return out;
}

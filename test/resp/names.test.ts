import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CommandNames } from "../../core/resp/names.ts";

describe("CommandNames", () => {
  const entries = [
    ["select", 1],
    ["set", 2],
    ["SCRIPT FLUSH", 3],
    ["a-very-long-command-name-over-thirty-one", 4],
    ["a-very-long-command-name-over-thirty-two", 5],
    ["ping", 6],
  ] as const;
  const names = new CommandNames<number>(entries);

  it("finds every name in any case, also inside a larger buffer, and nothing else", () => {
    for (const [name, value] of entries) {
      expect(names.get(Buffer.from(name.toUpperCase()))).toBe(value);
      expect(names.get(Buffer.from(name.toLowerCase()))).toBe(value);
      const framed = Buffer.from(`xx${name}yy`);
      expect(names.getRange(framed, 2, 2 + name.length)).toBe(value);
    }
    for (const other of [
      "sel",
      "selects",
      "se",
      "s",
      "pin",
      "pings",
      "incr",
      "",
      "a-very-long-command-name-over-thirty-thre",
    ])
      expect(names.get(Buffer.from(other)), other).toBeUndefined();
  });

  it("agrees with a plain lower-cased Map on random names", () => {
    const reference = new Map(entries.map(([n, v]) => [n.toLowerCase(), v]));
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...entries.map(([n]) => n)), fc.string({ minLength: 0, maxLength: 45 })),
        fc.boolean(),
        (name, upper) => {
          const text = upper ? name.toUpperCase() : name;
          const expected = reference.get(Buffer.from(text, "latin1").toString("latin1").toLowerCase());
          // Only ASCII case folding, as Redis does: compare on latin1 bytes.
          const ascii = /^[\x00-\x7f]*$/.test(text);
          if (ascii) expect(names.get(Buffer.from(text, "latin1"))).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { builtinCommandTable } from "../../core/commands/builtin.ts";
import { BadInputError } from "../../core/errors.ts";
import { compileFilter, type DropEvent, parseFilterArgs } from "../../core/filters/index.ts";
import type { Command } from "../../core/model.ts";
import type { RawCommand } from "../../core/resp/raw.ts";

const B = (s: string): Buffer => Buffer.from(s);
const cmd = (db: number, ...args: string[]): Command => ({ argv: args.map(B), db, offset: 1 });
const withRaw = (c: Command, raw: Buffer): RawCommand => ({ ...c, raw });
const text = (c: Command | null): string[] | null => (c ? c.argv.map(String) : null);

describe("keys, dbs, types", () => {
  it("includes by prefix/glob/regex (any), then excludes", () => {
    const f = compileFilter({
      includePrefixes: ["user:"],
      includeGlobs: ["order:[0-9]*"],
      includeRegexes: ["^sess-\\d+$"],
      excludePrefixes: ["user:tmp:"],
    });
    const allowed = ["user:1", "order:42", "sess-7"].map((k) => f.keyAllowed(0, B(k)));
    const refused = ["user:tmp:1", "order:x", "sess-x", "other"].map((k) => f.keyAllowed(0, B(k)));
    expect(allowed).toEqual([true, true, true]);
    expect(refused).toEqual([false, false, false, false]);
    expect(f.counters.filteredKeys).toBe(4);
  });

  it("filters dbs and types, maps dbs, renames by the first matching prefix", () => {
    const f = compileFilter({
      includeDbs: [0, 3],
      excludeTypes: ["stream"],
      dbMap: { "3": 1 },
      renamePrefixes: [
        { from: "old:", to: "new:" },
        { from: "o", to: "X" },
      ],
    });
    expect([f.mapDb(0), f.mapDb(3), f.mapDb(2)]).toEqual([0, 1, null]);
    expect(f.keyAllowed(2, B("k"))).toBe(false);
    expect(f.keyAllowed(0, B("k"), "stream")).toBe(false);
    expect(f.keyAllowed(0, B("k"), "hash")).toBe(true);
    expect(String(f.renameKey(B("old:1")))).toBe("new:1");
    expect(String(f.renameKey(B("other")))).toBe("Xther");
    const untouched = B("zzz");
    expect(f.renameKey(untouched)).toBe(untouched);
    expect(f.allKeys).toBe(false);
    expect(compileFilter({}).allKeys).toBe(true);
  });

  it("matches binary keys byte for byte", () => {
    const f = compileFilter({ includePrefixes: ["\u00e9"], includeGlobs: ["\\*?"] });
    expect(f.keyAllowed(0, Buffer.from([0xc3, 0xa9, 0x00]))).toBe(true);
    expect(f.keyAllowed(0, Buffer.from([0xe9]))).toBe(false);
    expect(f.keyAllowed(0, Buffer.from([0x2a, 0xff]))).toBe(true);
  });
});

describe("commands", () => {
  const table = builtinCommandTable;

  it("drops FLUSHALL/FLUSHDB/SWAPDB/admin commands by default, once-logged, and keeps flushes on request", () => {
    const events: DropEvent[] = [];
    const f = compileFilter({ dropCommands: ["publish"] }, { onFirstDrop: (e) => events.push(e) });
    for (const c of [
      cmd(0, "FLUSHALL"),
      cmd(0, "flushall", "ASYNC"),
      cmd(0, "FLUSHDB"),
      cmd(0, "SWAPDB", "0", "1"),
      cmd(0, "CONFIG", "SET", "maxmemory", "1"),
      cmd(0, "SCRIPT", "FLUSH"),
      cmd(0, "FUNCTION", "FLUSH"),
      cmd(0, "PUBLISH", "ch", "m"),
    ]) {
      expect(f.command(c, table)).toBeNull();
    }
    expect(text(f.command(cmd(0, "SCRIPT", "LOAD", "return 1"), table))).toEqual([
      "SCRIPT",
      "LOAD",
      "return 1",
    ]);
    expect(text(f.command(cmd(0, "FUNCTION", "LOAD", "code"), table))).toEqual(["FUNCTION", "LOAD", "code"]);
    expect(f.counters.filteredCommands.command).toBe(8);
    expect(f.counters.droppedByName).toMatchObject({ FLUSHALL: 2, "SCRIPT FLUSH": 1, PUBLISH: 1 });
    expect(events.map((e) => e.command)).toEqual([
      "FLUSHALL",
      "FLUSHDB",
      "SWAPDB",
      "CONFIG",
      "SCRIPT FLUSH",
      "FUNCTION FLUSH",
      "PUBLISH",
    ]);
    const keep = compileFilter({ keepFlush: true });
    expect(text(keep.command(cmd(0, "FLUSHDB"), table))).toEqual(["FLUSHDB"]);
    expect(keep.command(cmd(0, "SWAPDB", "0", "1"), table)).toBeNull();
  });

  it("keeps only allowed keys where meaning is preserved, drops otherwise", () => {
    const f = compileFilter({ includePrefixes: ["a:"] });
    expect(text(f.command(cmd(0, "DEL", "a:1", "b:1", "a:2"), table))).toEqual(["DEL", "a:1", "a:2"]);
    expect(text(f.command(cmd(0, "UNLINK", "b:1", "a:2"), table))).toEqual(["UNLINK", "a:2"]);
    expect(text(f.command(cmd(0, "MSET", "a:1", "1", "b:1", "2", "a:2", "3"), table))).toEqual([
      "MSET",
      "a:1",
      "1",
      "a:2",
      "3",
    ]);
    expect(text(f.command(cmd(0, "RENAME", "a:1", "b:1"), table))).toEqual(["DEL", "a:1"]);
    expect(f.command(cmd(0, "RENAME", "b:1", "a:1"), table)).toBeNull();
    expect(f.command(cmd(0, "SUNIONSTORE", "a:dst", "b:1", "a:2"), table)).toBeNull();
    expect(f.command(cmd(0, "SET", "b:1", "v"), table)).toBeNull();
    expect(text(f.command(cmd(0, "SET", "a:1", "v"), table))).toEqual(["SET", "a:1", "v"]);
    expect(f.counters.filteredCommands).toMatchObject({ keys: 1, partial: 2 });
    expect(f.counters.trimmedCommands).toBe(4);
  });

  it("maps the command db and cross-db arguments, renames every key position", () => {
    const f = compileFilter({
      excludeDbs: [5],
      dbMap: { "1": 2 },
      renamePrefixes: [{ from: "a:", to: "z:" }],
    });
    const moved = f.command(cmd(1, "MOVE", "a:1", "1"), table);
    expect([moved?.db, ...text(moved)!]).toEqual([2, "MOVE", "z:1", "2"]);
    expect(text(f.command(cmd(0, "MOVE", "a:1", "5"), table))).toEqual(["DEL", "z:1"]);
    expect(text(f.command(cmd(0, "COPY", "a:1", "a:2", "DB", "1"), table))).toEqual([
      "COPY",
      "z:1",
      "z:2",
      "DB",
      "2",
    ]);
    expect(f.command(cmd(0, "COPY", "a:1", "a:2", "DB", "5"), table)).toBeNull();
    expect(f.command(cmd(5, "SET", "a:1", "v"), table)).toBeNull();
    expect(
      text(f.command(cmd(0, "ZUNIONSTORE", "a:d", "2", "a:x", "b", "WEIGHTS", "1", "2"), table)),
    ).toEqual(["ZUNIONSTORE", "z:d", "2", "z:x", "b", "WEIGHTS", "1", "2"]);
    expect(text(f.command(cmd(0, "EVAL", "return 1", "1", "a:k", "a:notakey"), table))).toEqual([
      "EVAL",
      "return 1",
      "1",
      "z:k",
      "a:notakey",
    ]);
  });

  it("passes unknown commands through unchanged and counts them; type filters judge typed commands", () => {
    const f = compileFilter({ includePrefixes: ["a:"], excludeTypes: ["zset"] });
    expect(text(f.command(cmd(0, "JSON.SET", "b:1", "$", "{}"), table))).toEqual([
      "JSON.SET",
      "b:1",
      "$",
      "{}",
    ]);
    expect(f.counters.unknownCommands).toBe(1);
    expect(f.command(cmd(0, "ZADD", "a:z", "1", "m"), table)).toBeNull();
    expect(text(f.command(cmd(0, "EXPIRE", "a:z", "10"), table))).toEqual(["EXPIRE", "a:z", "10"]);
    expect(f.counters.filteredCommands.type).toBe(1);
  });
});

describe("CLI flags", () => {
  it("parses every flag into a FilterSpec", () => {
    const spec = parseFilterArgs({
      filterPrefix: ["user:", "order:"],
      excludePrefix: ["tmp:"],
      filterGlob: ["a*"],
      filterRegex: ["^x"],
      filterDb: ["0,3"],
      excludeDb: ["2"],
      filterType: ["Hash,zset"],
      dbMap: ["0:0,3:1"],
      renamePrefix: ["old:→new:", "a=>b"],
      dropCommand: ["PUBLISH,SCRIPT LOAD"],
      keepFlush: true,
    });
    expect(spec).toEqual({
      includePrefixes: ["user:", "order:"],
      excludePrefixes: ["tmp:"],
      includeGlobs: ["a*"],
      includeRegexes: ["^x"],
      includeDbs: [0, 3],
      excludeDbs: [2],
      includeTypes: ["hash", "zset"],
      dbMap: { "0": 0, "3": 1 },
      renamePrefixes: [
        { from: "old:", to: "new:" },
        { from: "a", to: "b" },
      ],
      dropCommands: ["PUBLISH", "SCRIPT LOAD"],
      keepFlush: true,
    });
    expect(parseFilterArgs({})).toEqual({});
  });

  it("refuses malformed values with BadInputError", () => {
    expect(() => parseFilterArgs({ dbMap: ["0-1"] })).toThrow(BadInputError);
    expect(() => parseFilterArgs({ dbMap: ["0:1,0:2"] })).toThrow(/mapped twice/);
    expect(() => parseFilterArgs({ filterDb: ["x"] })).toThrow(BadInputError);
    expect(() => parseFilterArgs({ filterType: ["blob"] })).toThrow(BadInputError);
    expect(() => parseFilterArgs({ filterRegex: ["("] })).toThrow(/regular expression/);
    expect(() => parseFilterArgs({ renamePrefix: ["nothing"] })).toThrow(BadInputError);
  });
});

describe("no rules: the stream fast path", () => {
  const table = builtinCommandTable;
  it("passes a command through as the same object, raw bytes included, and still drops admin commands by name", () => {
    const f = compileFilter({});
    const set: RawCommand = {
      ...cmd(3, "set", "k", "v"),
      raw: B("*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n"),
    };
    expect(f.command(set, table)).toBe(set);
    for (const c of [
      cmd(0, "flushall"),
      cmd(0, "FlushDB", "ASYNC"),
      cmd(0, "script", "flush"),
      cmd(0, "CONFIG", "SET", "x", "1"),
    ]) {
      expect(f.command(c, table)).toBeNull();
    }
    // First word of a dropped "NAME SUB" pair, other subcommand: kept.
    expect(text(f.command(cmd(0, "SCRIPT", "LOAD", "return 1"), table))).toEqual([
      "SCRIPT",
      "LOAD",
      "return 1",
    ]);
    expect(f.counters.filteredCommands.command).toBe(4);
    expect(f.counters.droppedByName).toMatchObject({ FLUSHALL: 1, FLUSHDB: 1, "SCRIPT FLUSH": 1, CONFIG: 1 });
    // --keep-flush takes FLUSHALL out of the dropped names on the fast path too.
    expect(text(compileFilter({ keepFlush: true }).command(cmd(0, "FLUSHALL"), table))).toEqual(["FLUSHALL"]);
  });

  it("drops the source's raw bytes when a rule rewrites argv, keeps them when only the db moves", () => {
    const raw = B("*2\r\n$3\r\nDEL\r\n$5\r\nold:1\r\n");
    const renamed = compileFilter({ renamePrefixes: [{ from: "old:", to: "new:" }] }).command(
      withRaw(cmd(0, "DEL", "old:1"), raw),
      table,
    );
    expect(text(renamed)).toEqual(["DEL", "new:1"]);
    expect((renamed as RawCommand).raw).toBeUndefined();
    const moved = compileFilter({ dbMap: { "0": 5 } }).command(withRaw(cmd(0, "DEL", "old:1"), raw), table);
    expect(moved?.db).toBe(5);
    expect((moved as RawCommand).raw).toBe(raw);
  });
});

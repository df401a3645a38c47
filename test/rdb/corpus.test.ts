import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RdbFormatError } from "../../core/rdb/errors.ts";
import type { HashEntry, RdbEvent, RdbValue, StreamId } from "../../core/rdb/types.ts";
import { CORPUS, CORRUPT_FILES, corpusFiles, parseEvents, rng } from "./helpers.ts";

const b64 = (b: Buffer): string => b.toString("base64");
const idText = (id: StreamId): string => `${id.ms}-${id.seq}`;

interface ExpectedKey {
  type: string;
  expire_at_ms: number | null;
  value: unknown;
  field_expire_at_ms?: Record<string, number>;
  groups?: Array<{ name: string; last_delivered_id: string; pending: Array<[string, string]> }>;
}
interface ExpectedDump {
  dbs: Record<string, Record<string, ExpectedKey>>;
  function_dump?: string;
}

function scoreOf(text: string): number {
  return text === "inf" ? Infinity : text === "-inf" ? -Infinity : Number(text);
}

/** Our value in the JSON's shape (sets sorted, zsets in rank order, hashes as objects). */
function normalise(value: RdbValue): {
  value: unknown;
  fieldExpire?: Record<string, number>;
  groups?: unknown;
} {
  switch (value.type) {
    case "string":
      return { value: b64(value.value) };
    case "list":
      return { value: value.value.map(b64) };
    case "set":
      return { value: value.value.map(b64).sort() };
    case "zset": {
      const sorted = [...value.value].sort((a, b) => a.score - b.score || Buffer.compare(a.member, b.member));
      return { value: sorted.map((e) => [b64(e.member), e.score]) };
    }
    case "hash": {
      const obj: Record<string, string> = {};
      const fieldExpire: Record<string, number> = {};
      for (const e of value.value as HashEntry[]) {
        obj[b64(e.field)] = b64(e.value);
        if (e.expireAtMs !== undefined) fieldExpire[b64(e.field)] = e.expireAtMs;
      }
      return { value: obj, fieldExpire };
    }
    case "stream":
      return {
        value: value.value.map((e) => [idText(e.id), e.fields.map(b64)]),
        groups: value.meta.groups.map((g) => {
          const owner = new Map<string, string>();
          for (const c of g.consumers) for (const id of c.pending) owner.set(idText(id), c.name.toString());
          return {
            name: g.name.toString(),
            last_delivered_id: idText(g.lastId),
            pending: g.pending.map((p) => [idText(p.id), owner.get(idText(p.id))]),
          };
        }),
      };
    case "module":
      return { value: value.moduleName };
  }
}

function expectedNormalised(e: ExpectedKey): unknown {
  switch (e.type) {
    case "set":
      return [...(e.value as string[])].sort();
    case "zset":
      return (e.value as Array<[string, string]>).map(([m, s]) => [m, scoreOf(s)]);
    default:
      return e.value;
  }
}

describe("generated dumps match their JSON description", () => {
  for (const name of [
    "redis-6.2.16",
    "redis-7.0.15",
    "redis-7.2.6",
    "redis-7.4.1",
    "valkey-unstable-20241025",
  ]) {
    it(name, () => {
      const rdb = readFileSync(join(CORPUS, "generated", `${name}.rdb`));
      const expected = JSON.parse(
        readFileSync(join(CORPUS, "generated", `${name}.json`), "utf8"),
      ) as ExpectedDump;
      const events = parseEvents(rdb);
      const keys = events.filter((e): e is Extract<RdbEvent, { kind: "key" }> => e.kind === "key");
      const seen = new Map<string, Set<string>>();
      for (const { meta, value } of keys) {
        const want = expected.dbs[String(meta.db)]?.[b64(meta.key)];
        expect(want, `unexpected key ${meta.key} in db ${meta.db}`).toBeDefined();
        if (!want) continue;
        const got = normalise(value);
        expect(value.type, String(meta.key)).toBe(want.type);
        expect(got.value, String(meta.key)).toEqual(expectedNormalised(want));
        expect(meta.expireAtMs ?? null, String(meta.key)).toBe(want.expire_at_ms);
        if (want.field_expire_at_ms) expect(got.fieldExpire).toEqual(want.field_expire_at_ms);
        if (want.groups) expect(got.groups).toEqual(want.groups);
        seen.set(String(meta.db), (seen.get(String(meta.db)) ?? new Set()).add(b64(meta.key)));
      }
      for (const [db, dbKeys] of Object.entries(expected.dbs))
        expect([...(seen.get(db) ?? [])].sort()).toEqual(Object.keys(dbKeys).sort());
      const eof = events.at(-1);
      expect(eof).toMatchObject({ kind: "eof", checksumOk: true, bytes: rdb.length });
      if (expected.function_dump) {
        const fn = events.find((e) => e.kind === "function");
        // FUNCTION DUMP's payload holds the same library code (LZF-compressed inside the payload).
        expect(fn && fn.kind === "function" && fn.code.toString()).toContain("name=ferrylib");
      }
    });
  }
});

describe("every corpus file parses identically whatever the chunking", () => {
  for (const [name, bytes] of corpusFiles()) {
    it(name, () => {
      if (CORRUPT_FILES.has(name)) {
        expect(() => parseEvents(bytes)).toThrow(RdbFormatError);
        expect(() => parseEvents(bytes, {}, () => 1)).toThrow(RdbFormatError);
        return;
      }
      const options = { captureRaw: true };
      const whole = parseEvents(bytes, options);
      expect(whole[0]?.kind).toBe("header");
      expect(whole.at(-1)?.kind).toBe("eof");
      expect(parseEvents(bytes, options, () => 1)).toEqual(whole);
      const random = rng(bytes.length);
      expect(parseEvents(bytes, options, () => 1 + Math.floor(random() * 700))).toEqual(whole);
    });
  }
});

describe("big-key chunking gives the same elements as a whole parse", () => {
  for (const [name, bytes] of corpusFiles().filter(([n]) => !CORRUPT_FILES.has(n))) {
    it(name, () => {
      const whole = parseEvents(bytes);
      const chunked = parseEvents(bytes, { bigKeyThreshold: 64, chunkBytes: 100 }, () => 37);
      // Reassemble chunked keys, then compare key by key with the whole parse.
      const rebuilt: Array<[string, unknown]> = [];
      let open: { key: string; items: unknown[] } | null = null;
      for (const e of chunked) {
        if (e.kind === "key")
          rebuilt.push([e.meta.key.toString("hex"), "value" in e.value ? e.value.value : e.value]);
        else if (e.kind === "key-begin") open = { key: e.meta.key.toString("hex"), items: [] };
        else if (e.kind === "key-chunk") {
          expect(open?.key).toBe(e.meta.key.toString("hex"));
          if (e.chunk.type === "string") open!.items.push(e.chunk.value);
          else open!.items.push(...e.chunk.value);
        } else if (e.kind === "key-end") {
          const items = open!.items;
          rebuilt.push([
            open!.key,
            items.every(Buffer.isBuffer) && e.meta.rdbType === 0 ? Buffer.concat(items as Buffer[]) : items,
          ]);
          open = null;
        }
      }
      const expected = whole.flatMap((e) =>
        e.kind === "key"
          ? [[e.meta.key.toString("hex"), "value" in e.value ? e.value.value : e.value] as [string, unknown]]
          : [],
      );
      expect(rebuilt).toEqual(expected);
    });
  }
});

describe("facts from redis-rdb-tools' tests", () => {
  const load = (file: string) => {
    const events = parseEvents(readFileSync(join(CORPUS, "redis-rdb-tools", file)));
    const dbs = new Map<number, Map<string, { value: RdbValue; expireAtMs?: number }>>();
    for (const e of events) {
      if (e.kind !== "key") continue;
      const db = dbs.get(e.meta.db) ?? new Map();
      dbs.set(e.meta.db, db);
      db.set(e.meta.key.toString("latin1"), {
        value: e.value,
        ...(e.meta.expireAtMs !== undefined ? { expireAtMs: e.meta.expireAtMs } : {}),
      });
    }
    return dbs;
  };
  const strings = (v: RdbValue | undefined): string[] =>
    v && (v.type === "list" || v.type === "set") ? v.value.map((b) => b.toString("latin1")) : [];
  const hash = (v: RdbValue | undefined): Record<string, string> =>
    v?.type === "hash"
      ? Object.fromEntries(v.value.map((e) => [e.field.toString(), e.value.toString()]))
      : {};
  const zset = (v: RdbValue | undefined): Record<string, number> =>
    v?.type === "zset" ? Object.fromEntries(v.value.map((e) => [e.member.toString(), e.score])) : {};

  it("databases, expiry, integer keys, compression", () => {
    expect(load("empty_database.rdb").size).toBe(0);
    const multi = load("multiple_databases.rdb");
    expect([...multi.keys()]).toEqual([0, 2]);
    expect(multi.get(2)?.get("key_in_second_database")?.value).toEqual({
      type: "string",
      value: Buffer.from("second"),
    });
    const expiry = load("keys_with_expiry.rdb").get(0)?.get("expires_ms_precision")?.expireAtMs;
    expect(new Date(expiry!).toISOString()).toBe("2022-12-25T10:11:12.573Z");
    const ints = load("integer_keys.rdb").get(0)!;
    expect(ints.get("125")?.value).toEqual({ type: "string", value: Buffer.from("Positive 8 bit integer") });
    expect(ints.get(String(-0x7325))?.value).toEqual({
      type: "string",
      value: Buffer.from("Negative 16 bit integer"),
    });
    expect(ints.get(String(0x0aedd325))?.value).toEqual({
      type: "string",
      value: Buffer.from("Positive 32 bit integer"),
    });
    const compressed = load("easily_compressible_string_key.rdb").get(0)!;
    expect(compressed.get("a".repeat(200))?.value).toEqual({
      type: "string",
      value: Buffer.from("Key that redis should compress easily"),
    });
  });

  it("zipmaps, ziplists, intsets, linked lists, dictionaries", () => {
    expect(
      hash(load("zipmap_that_compresses_easily.rdb").get(0)?.get("zipmap_compresses_easily")?.value),
    ).toEqual({
      a: "aa",
      aa: "aaaa",
      aaaaa: "aaaaaaaaaaaaaa",
    });
    expect(
      hash(load("zipmap_that_doesnt_compress.rdb").get(0)?.get("zimap_doesnt_compress")?.value),
    ).toMatchObject({
      MKD1G6: "2",
      YNNXK: "F7TI",
    });
    const big = hash(load("zipmap_with_big_values.rdb").get(0)?.get("zipmap_with_big_values")?.value);
    expect(
      [253, 254, 255, 300, 20000].map((n) => big[n === 20000 ? "20kbytes" : `${n}bytes`]?.length),
    ).toEqual([253, 254, 255, 300, 20000]);
    expect(hash(load("hash_as_ziplist.rdb").get(0)?.get("zipmap_compresses_easily")?.value).aaaaa).toBe(
      "aaaaaaaaaaaaaa",
    );
    const dict = hash(load("dictionary.rdb").get(0)?.get("force_dictionary")?.value);
    expect(Object.keys(dict)).toHaveLength(1000);
    expect(dict["ZMU5WEJDG7KU89AOG5LJT6K7HMNB3DEI43M6EYTJ83VRJ6XNXQ"]).toBe(
      "T63SOS8DQJF0Q0VJEZ0D1IQFCYTIPSBOUIAI9SB0OV57MQR1FI",
    );
    expect(
      strings(load("ziplist_that_compresses_easily.rdb").get(0)?.get("ziplist_compresses_easily")?.value),
    ).toEqual([6, 12, 18, 24, 30, 36].map((n) => "a".repeat(n)));
    const withInts = strings(load("ziplist_with_integers.rdb").get(0)?.get("ziplist_with_integers")?.value);
    const expectedInts = [
      ...Array.from({ length: 13 }, (_, i) => i),
      -2,
      13,
      25,
      -61,
      63,
      16380,
      -16000,
      65535,
      -65523,
      4194304,
    ];
    expect(withInts).toEqual([...expectedInts.map(String), "9223372036854775807"]);
    const linked = strings(load("linkedlist.rdb").get(0)?.get("force_linkedlist")?.value);
    expect(linked).toHaveLength(1000);
    expect(linked).toContain("JYY4GIFI0ETHKP4VAJF5333082J4R1UPNPLE329YT0EYPGHSJQ");
    expect(strings(load("intset_16.rdb").get(0)?.get("intset_16")?.value).sort()).toEqual([
      "32764",
      "32765",
      "32766",
    ]);
    expect(strings(load("intset_64.rdb").get(0)?.get("intset_64")?.value)).toContain(
      String(0x7ffefffefffefffen),
    );
    expect(strings(load("regular_set.rdb").get(0)?.get("regular_set")?.value).sort()).toEqual([
      "alpha",
      "beta",
      "delta",
      "gamma",
      "kappa",
      "phi",
    ]);
  });

  it("sorted sets, checksums, 64-bit lengths, modules, streams", () => {
    const z = zset(load("sorted_set_as_ziplist.rdb").get(0)?.get("sorted_set_as_ziplist")?.value);
    expect(z["cb7a24bb7528f934b841b34c3a73e0c7"]).toBeCloseTo(2.37, 5);
    expect(z["523af537946b79c4f8369ed39ba78605"]).toBeCloseTo(3.423, 5);
    const v5 = load("rdb_version_5_with_checksum.rdb").get(0)!;
    expect(v5.get("longerstring")?.value).toEqual({
      type: "string",
      value: Buffer.from("thisisalongerstring.idontknowwhatitmeans"),
    });
    const v8 = load("rdb_version_8_with_64b_length_and_scores.rdb").get(0)!;
    const bigset = zset(v8.get("bigset")?.value);
    expect(Object.keys(bigset)).toHaveLength(1000);
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the fixture stores 2.718, not e
    expect(bigset["finalfield"]).toBeCloseTo(2.718, 5);
    const module = load("redis_40_with_module.rdb").get(0)?.get("foo")?.value;
    expect(module).toMatchObject({ type: "module", moduleName: "ReJSON-RL" });
    const stream = load("redis_50_with_streams.rdb").get(0)?.get("mystream")?.value;
    expect(stream?.type === "stream" && stream.meta.length).toBe(4);
  });

  it("module aux data is captured, and modules: fail names the key and module", () => {
    const events = parseEvents(readFileSync(join(CORPUS, "redis-rdb-tools", "redis_60_with_module_aux.rdb")));
    const aux = events.find((e) => e.kind === "module-aux");
    expect(aux).toMatchObject({ kind: "module-aux", when: 2 });
    expect(aux?.kind === "module-aux" && aux.raw.length).toBeGreaterThan(0);
    const bytes = readFileSync(join(CORPUS, "redis-rdb-tools", "redis_40_with_module.rdb"));
    expect(() => parseEvents(bytes, { modules: "fail" })).toThrow(/key "foo".*ReJSON-RL/);
  });
});

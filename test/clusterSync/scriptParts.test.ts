import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinCommandTable } from "../../core/commands/index.ts";
import { parseRedisUrl } from "../../core/connect/url.ts";
import { ClusterWriter } from "../../core/writer/cluster.ts";
import { scriptKeys } from "../../core/writer/clusterScript.ts";
import { BatchMaker } from "../cluster/batches.ts";
import { type RedisClusterProc, startCluster } from "../helpers/redis.ts";

const argv = (...args: string[]) => ({ argv: args.map((a) => Buffer.from(a)) });

describe("cluster writer: one script per slot part", () => {
  it("takes only commands a script may run, with their keys", () => {
    const keys = scriptKeys(builtinCommandTable, [
      argv("SET", "a", "1"),
      argv("MSET", "{t}x", "1", "{t}y", "2"),
    ]);
    expect(keys?.map(String)).toEqual(["a", "{t}x", "{t}y"]);
    expect(
      scriptKeys(builtinCommandTable, [argv("SET", "a", "1"), argv("EVAL", "return 1", "0")]),
    ).toBeNull();
    expect(scriptKeys(builtinCommandTable, [argv("NOSUCHCOMMAND", "a")])).toBeNull();
    const huge = argv("RPUSH", "l", ...Array.from({ length: 1000 }, (_, i) => `${i}`));
    expect(scriptKeys(builtinCommandTable, [huge])).toBeNull();
  });

  let cluster: RedisClusterProc;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("reports a refused command and applies the rest; the MULTI path continues from its markers", async () => {
    const endpoint = parseRedisUrl(cluster.url);
    const warnings: string[] = [];
    const scripted = await ClusterWriter.connect({
      endpoint,
      onWarn: (m) => warnings.push(m),
      refreshIntervalMs: 0,
    });
    const multi = await ClusterWriter.connect({ endpoint, scriptParts: false, refreshIntervalMs: 0 });
    const check = cluster.client();
    const make = new BatchMaker("job", "s1");
    await check.set("{k}str", "x");
    const first = make.next([
      ["INCR", "{k}n"],
      ["LPUSH", "{k}str", "v"], // WRONGTYPE
      ["INCR", "{k}n"],
      ["RPUSH", "other", "a"],
    ]);
    expect((await scripted.apply(first)).applied).toBe(4);
    expect(warnings.join("\n")).toMatch(/LPUSH: WRONGTYPE/);
    expect(await check.get("{k}n")).toBe("2");
    // Replayed through either path: nothing is applied twice.
    expect((await multi.apply(first)).applied).toBe(0);
    expect((await scripted.apply(first)).applied).toBe(0);
    const second = make.next([
      ["INCR", "{k}n"],
      ["RPUSH", "other", "b"],
    ]);
    expect((await multi.apply(second)).applied).toBe(2);
    expect((await scripted.apply(second)).applied).toBe(0);
    const third = make.next([["INCR", "{k}n"]]);
    expect((await scripted.apply(third)).applied).toBe(1);
    expect(await check.get("{k}n")).toBe("4");
    expect(await check.lrange("other", 0, -1)).toEqual(["a", "b"]);
    // A script flushed from the node (restart, SCRIPT FLUSH) is sent again whole.
    for (const node of cluster.nodes) await node.client().script("FLUSH");
    expect((await scripted.apply(make.next([["INCR", "{k}n"]]))).applied).toBe(1);
    expect(await check.get("{k}n")).toBe("5");
    await scripted.close();
    await multi.close();
  });
});

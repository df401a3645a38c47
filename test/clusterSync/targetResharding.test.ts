import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slotOf } from "../../core/cluster/slots.ts";
import { startLoad } from "../helpers/load.ts";
import {
  type RedisClusterProc,
  type RedisProc,
  startCluster,
  startRedis,
  waitFor,
} from "../helpers/redis.ts";
import { compareSides, masterClients, startJob, syncConfig, waitCaughtUp } from "./harness.ts";

describe("ferry sync: target resharding while ferry writes", () => {
  let source: RedisProc;
  let target: RedisClusterProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([startRedis(), startCluster({ masters: 3 })]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("follows ASK/MOVED while a hot slot moves between target masters; identical afterwards", async () => {
    const c = source.client();
    for (let i = 0; i < 300; i++) await c.set(`{hot}k:${i}`, `v${i}`);
    const run = await startJob(syncConfig(source.url, target.url));
    await waitFor(() => run.job.status().phase === "streaming", 20_000);
    const load = startLoad({ url: source.url, seed: 4, otherDb: -1 });
    let hot = true;
    const hotLoop = (async () => {
      let n = 0;
      while (hot) {
        const p = c.pipeline();
        for (let j = 0; j < 20; j++, n++) {
          p.incr(`{hot}k:${n % 300}:n`);
          p.rpush(`{hot}k:${(n * 7) % 300}:l`, `${n}`);
          p.append(`{hot}k:${n % 300}`, "+");
        }
        await p.exec();
      }
    })();

    const slot = slotOf(Buffer.from("hot"));
    const masters = await masterClients(target.seeds[0]!);
    const ids = await Promise.all(masters.map(async (m) => String(await m.cluster("MYID"))));
    let ownerIndex = -1;
    for (const [i, m] of masters.entries()) {
      const nodes = String(await m.cluster("NODES"));
      const mine = nodes.split("\n").find((l) => l.includes("myself"))!;
      const ranges = mine
        .split(" ")
        .slice(8)
        .map((r) => r.split("-").map(Number));
      if (ranges.some(([a, b]) => slot >= a! && slot <= (b ?? a)!)) ownerIndex = i;
    }
    const from = masters[ownerIndex]!;
    const toIndex = (ownerIndex + 1) % masters.length;
    const to = masters[toIndex]!;
    await to.cluster("SETSLOT", slot, "IMPORTING", ids[ownerIndex]!);
    await from.cluster("SETSLOT", slot, "MIGRATING", ids[toIndex]!);
    let moved = 0;
    for (;;) {
      const keys = (await from.cluster("GETKEYSINSLOT", slot, 20)) as string[];
      if (keys.length === 0) break;
      await from.call(
        "MIGRATE",
        "127.0.0.1",
        Number(to.options.port),
        "",
        0,
        5000,
        "REPLACE",
        "KEYS",
        ...keys,
      );
      moved += keys.length;
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const m of masters) await m.cluster("SETSLOT", slot, "NODE", ids[toIndex]!);
    await new Promise((r) => setTimeout(r, 500));
    hot = false;
    await hotLoop;
    await load.stop();
    expect(moved).toBeGreaterThan(300);

    await waitCaughtUp(run.job, [c]);
    const plain = new Redis(source.port, "127.0.0.1");
    const diffs = await compareSides([{ kind: "standalone", client: plain }], {
      kind: "cluster",
      seed: target.seeds[0]!,
    });
    plain.disconnect();
    expect(diffs).toEqual([]);
    // The slot (with its exactly-once marker) now lives on the new owner.
    expect(await to.cluster("COUNTKEYSINSLOT", slot)).toBeGreaterThan(300);
    expect(await from.cluster("COUNTKEYSINSLOT", slot)).toBe(0);
    for (const m of masters) m.disconnect();
    await run.stop();
  });
});

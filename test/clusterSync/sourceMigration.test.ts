import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slotOf } from "../../core/cluster/slots.ts";
import { SlotHandoff } from "../../core/jobs/slotHandoff.ts";
import type { Command } from "../../core/model.ts";
import {
  type RedisClusterProc,
  type RedisProc,
  startCluster,
  startRedis,
  waitFor,
} from "../helpers/redis.ts";
import {
  compareSides,
  masterClients,
  startClusterLoad,
  startJob,
  syncConfig,
  waitCaughtUp,
} from "./harness.ts";

const cmd = (offset: number, ...args: string[]): Command => ({
  argv: args.map((a) => Buffer.from(a)),
  db: 0,
  offset,
});
const text = (commands: Command[]) => commands.map((c) => c.argv.map(String).join(" "));

describe("slot handoff rule", () => {
  it("turns RESTORE-ASKING into RESTORE … REPLACE and drops the old owner's DEL of that key", () => {
    const handoff = new SlotHandoff({ shards: () => [] });
    const b = handoff.inspect("B", [
      cmd(10, "SET", "x", "1"),
      cmd(20, "RESTORE-ASKING", "k", "0", "payload", "ABSTTL"),
    ]);
    expect(b.barrier).toBe(true);
    expect(text(b.commands)).toEqual(["SET x 1", "RESTORE k 0 payload ABSTTL REPLACE"]);
    // The old owner's DEL (MIGRATE's removal of its copy) loses k but keeps other keys.
    const a = handoff.inspect("A", [cmd(30, "DEL", "k", "other"), cmd(31, "UNLINK", "k")]);
    expect(a.barrier).toBe(false);
    expect(text(a.commands)).toEqual(["DEL other"]);
    // A DEL where the key lives now is a real delete, and ends the arrival.
    expect(text(handoff.inspect("B", [cmd(40, "DEL", "k")]).commands)).toEqual(["DEL k"]);
    expect(text(handoff.inspect("A", [cmd(50, "DEL", "k")]).commands)).toEqual(["DEL k"]);
    expect(handoff.counters).toMatchObject({ arrivals: 1, droppedDeletes: 2 });
  });

  it("waits until the other shards applied what they had handed on", async () => {
    let applied = 0;
    const handoff = new SlotHandoff({
      shards: () => [
        { id: "A", handedOffset: () => 100, appliedOffset: () => applied },
        { id: "B", handedOffset: () => 500, appliedOffset: () => 0 },
      ],
    });
    let done = false;
    const waiting = handoff.barrier("B").then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    applied = 100;
    await waiting;
    expect(done).toBe(true);
  });
});

describe("ferry sync: keys migrated between source masters while streaming", () => {
  let source: RedisClusterProc;
  let target: RedisProc;
  beforeAll(async () => {
    [source, target] = await Promise.all([startCluster({ masters: 3 }), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it("moves a slot with MIGRATE under write load; the target ends identical", async () => {
    const writer = source.client();
    const slot = slotOf(Buffer.from("mig"));
    for (let i = 0; i < 200; i++) await writer.set(`{mig}k:${i}`, `v${i}`);
    const run = await startJob(syncConfig(source.url, target.url));
    await waitFor(() => run.job.status().phase === "streaming", 20_000);
    const load = startClusterLoad(writer, { seed: 21 });
    // Writes that keep hitting the migrating slot: non-idempotent, so a lost or doubled key shows.
    let hot = true;
    const hotLoop = (async () => {
      let n = 0;
      while (hot) {
        const i = n++ % 200;
        await Promise.all([
          writer.incr(`{mig}k:${i}:n`),
          writer.lpush(`{mig}k:${(i * 7) % 200}:l`, `${n}`),
          writer.append(`{mig}k:${i}`, "+"),
        ]).catch(() => null);
      }
    })();

    // Move the slot from its owner to the next master: the resharding steps redis-cli runs.
    const masters = await masterClients(source.seeds[0]!);
    const ids = await Promise.all(masters.map(async (m) => String(await m.cluster("MYID"))));
    const ownerIndex = await (async () => {
      for (const [i, m] of masters.entries()) {
        const keys = (await m.cluster("COUNTKEYSINSLOT", slot)) as number;
        if (keys > 0) return i;
      }
      throw new Error("no owner");
    })();
    const from = masters[ownerIndex]!;
    const to = masters[(ownerIndex + 1) % masters.length]!;
    const toId = ids[(ownerIndex + 1) % masters.length]!;
    const toPort = Number(to.options.port);
    await to.cluster("SETSLOT", slot, "IMPORTING", ids[ownerIndex]!);
    await from.cluster("SETSLOT", slot, "MIGRATING", toId);
    let moved = 0;
    for (;;) {
      const keys = (await from.cluster("GETKEYSINSLOT", slot, 10)) as string[];
      if (keys.length === 0) break;
      await from.call("MIGRATE", "127.0.0.1", toPort, "", 0, 5000, "KEYS", ...keys);
      moved += keys.length;
      await new Promise((r) => setTimeout(r, 5));
    }
    for (const m of masters) await m.cluster("SETSLOT", slot, "NODE", toId);
    await new Promise((r) => setTimeout(r, 500));
    hot = false;
    await hotLoop;
    await load.stop();
    expect(moved).toBeGreaterThan(200);

    await waitCaughtUp(run.job, masters);
    for (const m of masters) m.disconnect();
    const targetClient = new Redis(target.port, "127.0.0.1");
    const diffs = await compareSides([{ kind: "cluster", seed: source.seeds[0]! }], {
      kind: "standalone",
      client: targetClient,
    });
    targetClient.disconnect();
    expect(diffs).toEqual([]);
    expect(run.logs.filter((l) => Number(l["level"]) >= 50)).toEqual([]);
    await run.stop();
  });
});

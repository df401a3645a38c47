/**
 * The cluster writer's batched path (core/writer/clusterBatch.ts): a batch's parts go to each node
 * in one write, and every way that write can go wrong leaves the marker to decide.
 */
import fc from "fast-check";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slotOf, slotTag } from "../../core/cluster/slots.ts";
import { builtinCommandTable } from "../../core/commands/index.ts";
import { encodeCommands } from "../../core/resp/encoder.ts";
import { ClusterWriter } from "../../core/writer/cluster.ts";
import { applyOnNode, type FirstAttempt, type NodePart } from "../../core/writer/clusterBatch.ts";
import { encodeApplyFrames } from "../../core/writer/clusterFrames.ts";
import { type MarkerCache, slotMarkerKey } from "../../core/writer/clusterPart.ts";
import { classify } from "../../core/writer/clusterRoute.ts";
import { applyScriptArgs } from "../../core/writer/clusterScript.ts";
import { TxConnection } from "../../core/writer/txConnection.ts";
import { startProxy } from "../helpers/proxy.ts";
import { type RedisClusterProc, sleep, startCluster, waitFor } from "../helpers/redis.ts";
import { BatchMaker } from "./batches.ts";

const REPLID = "b".repeat(40);
const b = (s: string): Buffer => Buffer.from(s);

/** Counts the writes applyOnNode makes. */
class CountingConnection extends TxConnection {
  writes = 0;
  override sendEncoded(payload: Buffer, count: number) {
    this.writes++;
    return super.sendEncoded(payload, count);
  }
}

/** One INCR part per slot in `slots`, all at `offset`. */
function incrParts(job: string, slots: readonly number[], offset: number): NodePart[] {
  return slots.map((slot) => ({
    slot,
    markerKey: slotMarkerKey("__ferry:", job, "s1", slot),
    entries: [{ argv: [b("INCR"), b(`{${slotTag(slot)}}n`)], pos: { replid: REPLID, offset } }],
  }));
}

const appliedCount = (attempts: FirstAttempt[]): number =>
  attempts.reduce((n, a) => n + (a.kind === "applied" ? a.result.applied : 0), 0);

describe("EVALSHA frames", () => {
  it("encode to the same bytes as the generic RESP encoder", () => {
    const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    const frame = fc.record({
      markerKey: fc.string({ maxLength: 30 }),
      keys: fc.array(bytes, { maxLength: 4 }),
      expected: fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
      next: fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
      commands: fc.array(
        fc.array(bytes, { minLength: 1, maxLength: 12 }).map((argv) => ({ argv })),
        { minLength: 1, maxLength: 5 },
      ),
    });
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 4 }), (frames) => {
        const generic = encodeCommands(
          frames.map((f) => applyScriptArgs(f.markerKey, f.keys, f.expected, f.next, f.commands)),
        );
        expect(encodeApplyFrames(frames).equals(generic)).toBe(true);
      }),
    );
  });
});

describe("batched parts on a real cluster", () => {
  let cluster: RedisClusterProc;
  let node0: Redis;

  beforeAll(async () => {
    cluster = await startCluster({ masters: 3 });
    node0 = cluster.nodes[0]!.client();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("sends 200 parts in one write, guesses or reads markers, reloads a missing script", async () => {
    const connection = new CountingConnection({ host: "127.0.0.1", port: cluster.nodes[0]!.port });
    try {
      const slots = Array.from({ length: 200 }, (_, i) => i * 20); // all owned by node 0 (0–5460)
      const cache: MarkerCache = new Map();
      const opts = { floor: null, cache, table: builtinCommandTable, guessAbsent: true };
      const value = async (slot: number) => Number(await node0.get(`{${slotTag(slot)}}n`));

      // A fresh shard: no marker read. The node has no script yet: NOSCRIPT for every part, then
      // SCRIPT LOAD and all the parts again in one write.
      let attempts = await applyOnNode(connection, incrParts("nb", slots, 100), opts);
      expect(connection.writes).toBe(2);
      expect(appliedCount(attempts)).toBe(200);

      // Markers cached: the 200 parts in one write.
      attempts = await applyOnNode(connection, incrParts("nb", slots, 200), opts);
      expect(connection.writes).toBe(3);
      expect(appliedCount(attempts)).toBe(200);

      // Redelivered: the cached markers cover it, nothing is sent.
      attempts = await applyOnNode(connection, incrParts("nb", slots, 200), opts);
      expect(connection.writes).toBe(3);
      expect(appliedCount(attempts)).toBe(0);

      // A new writer (empty cache) that wrongly guesses "no marker": the scripts refuse, the
      // markers are read, nothing runs twice.
      attempts = await applyOnNode(connection, incrParts("nb", slots, 200), { ...opts, cache: new Map() });
      expect(connection.writes).toBe(3 + 2);
      expect(appliedCount(attempts)).toBe(0);
      expect(attempts.every((a) => a.kind === "applied")).toBe(true);

      // Not fresh: markers read first (one write of GETs), then the parts (one write).
      const reread: MarkerCache = new Map();
      attempts = await applyOnNode(connection, incrParts("nb", slots, 300), {
        ...opts,
        cache: reread,
        guessAbsent: false,
      });
      expect(connection.writes).toBe(5 + 2);
      expect(appliedCount(attempts)).toBe(200);

      // SCRIPT FLUSH: NOSCRIPT again, then SCRIPT LOAD + the parts in one write.
      await node0.script("FLUSH");
      attempts = await applyOnNode(connection, incrParts("nb", slots, 400), { ...opts, cache: reread });
      expect(connection.writes).toBe(7 + 2);
      expect(appliedCount(attempts)).toBe(200);
      for (const slot of [slots[0]!, slots[99]!, slots[199]!]) expect(await value(slot)).toBe(4);
    } finally {
      connection.close();
    }
  });

  it("a link cut after the scripts ran: parts fail as lost links, the markers then skip them", async () => {
    const proxy = await startProxy({ host: "127.0.0.1", port: cluster.nodes[0]!.port });
    const connection = new TxConnection({ host: "127.0.0.1", port: proxy.port });
    try {
      await connection.connect();
      const slots = Array.from({ length: 50 }, (_, i) => 3 + i * 20);
      const cache: MarkerCache = new Map();
      const opts = { floor: null, cache, table: builtinCommandTable, guessAbsent: true };
      proxy.setDelay(300); // the request and then its replies each wait 300 ms in the proxy
      const attempt = applyOnNode(connection, incrParts("cut", slots, 100), opts);
      // Cut once the node ran the scripts, while their replies are still held in the proxy.
      const last = `{${slotTag(slots[49]!)}}n`;
      await waitFor(async () => (await node0.get(last)) === "1", 5000, 10);
      proxy.cut();
      const attempts = await attempt;
      expect(attempts.every((a) => a.kind === "failed")).toBe(true);
      for (const a of attempts)
        if (a.kind === "failed") expect(classify(a.error)).toMatchObject({ kind: "retry", reconnect: true });
      expect(cache.size).toBe(0); // nothing cached from an attempt whose outcome is unknown

      // What the per-part path does next: read the markers, apply what they do not cover.
      proxy.setDelay(0);
      const again = await applyOnNode(connection, incrParts("cut", slots, 100), {
        ...opts,
        guessAbsent: false,
      });
      expect(again.every((a) => a.kind === "applied")).toBe(true);
      expect(appliedCount(again)).toBe(0);
      for (const slot of slots) expect(await node0.get(`{${slotTag(slot)}}n`)).toBe("1");
    } finally {
      connection.close();
      await proxy.close();
    }
  });

  it("a MOVED part is rerouted alone and applied once; the others are sent once", async () => {
    const seed = cluster.nodes[0]!;
    const writer = await ClusterWriter.connect({
      endpoint: { host: seed.host, port: seed.port },
      refreshIntervalMs: 0, // only the MOVED reply may teach the writer
    });
    const admin = cluster.nodes.map((n) => n.client());
    try {
      const make = new BatchMaker("moved", "s1", REPLID);
      const keys = Array.from({ length: 60 }, (_, i) => `mv:${i}`);
      const moving = 4000; // node 0's, empty: no key of this test lands there before it moves
      expect(keys.some((k) => slotOf(k) === moving)).toBe(false);
      await writer.apply(make.next(keys.map((k) => ["INCR", k])));

      const target = String(await admin[1]!.cluster("MYID"));
      for (const node of admin) await node.cluster("SETSLOT", moving, "NODE", target);
      await waitFor(async () => (await admin[0]!.cluster("COUNTKEYSINSLOT", moving)) === 0);
      for (const node of admin) await node.config("RESETSTAT");

      const movedKey = `{${slotTag(moving)}}x`;
      const stats = { ...writer.stats };
      const result = await writer.apply(make.next([...keys.map((k) => ["INCR", k]), ["INCR", movedKey]]));
      expect(result.applied).toBe(61);
      expect(writer.stats.moved).toBe(stats.moved + 1);
      expect(writer.stats.retries).toBe(stats.retries);
      expect(await admin[1]!.get(movedKey)).toBe("1");
      for (const k of keys) expect(await cluster.client().get(k)).toBe("2");
      // Every part ran exactly once: one EVALSHA call per slot of the batch (MOVED is no call).
      const parts = new Set([...keys, movedKey].map((k) => slotOf(k))).size;
      let calls = 0;
      for (const node of admin) {
        const stat = /cmdstat_evalsha:calls=(\d+)/.exec(await node.info("commandstats"));
        calls += Number(stat?.[1] ?? 0);
      }
      expect(calls).toBe(parts);
    } finally {
      for (const node of admin) node.disconnect();
      await writer.close();
    }
  });

  it("connections killed at random moments: every INCR applied exactly once", async () => {
    const seed = cluster.nodes[1]!;
    const writer = await ClusterWriter.connect({ endpoint: { host: seed.host, port: seed.port } });
    const killer = cluster.nodes[1]!.client();
    let stop = false;
    const kills = (async () => {
      let n = 0;
      while (!stop) {
        n += Number(await killer.client("KILL", "TYPE", "normal", "SKIPME", "yes"));
        await sleep(5 + (n % 11));
      }
      return n;
    })();
    try {
      const make = new BatchMaker("kills", "s1", REPLID);
      const keys = Array.from({ length: 150 }, (_, i) => `kill:${i}`);
      for (let n = 0; n < 15; n++) await writer.apply(make.next(keys.map((k) => ["INCR", k])));
      stop = true;
      const killed = await kills;
      console.log(`killed ${killed} connections; writer stats ${JSON.stringify(writer.stats)}`);
      expect(killed).toBeGreaterThan(0);
      expect(writer.stats.retries).toBeGreaterThan(0);
      const check = cluster.client();
      for (const k of keys) expect(await check.get(k)).toBe("15");
    } finally {
      stop = true;
      await kills.catch(() => {});
      killer.disconnect();
      await writer.close();
    }
  });
});

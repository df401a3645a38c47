/**
 * One side of a verify: the nodes to SCAN (every master, per db) and the client that reads a key
 * wherever it lives (a db-selected client, or a cluster client that follows MOVED/ASK).
 */
import type { Cluster, Redis } from "ioredis";
import { parseInfo, parseKeyspace } from "../check/facts.ts";
import { connectCluster, connectRedis } from "../connect/client.ts";
import { detectTopology } from "../connect/topology.ts";
import { BadInputError } from "../errors.ts";
import type { RedisEndpoint } from "../replication/types.ts";

export type Reader = Redis | Cluster;

/** Raw reply with Buffers (binary-safe) for any command, routed by key on a cluster. */
export function call(
  reader: Reader,
  command: string,
  ...args: Array<string | Buffer | number>
): Promise<unknown> {
  return reader.callBuffer(command, ...args);
}

export interface VerifySide {
  name: "source" | "target";
  kind: "standalone" | "cluster";
  /** db → keys, summed over masters. */
  keyspace: Map<number, number>;
  reader(db: number): Promise<Reader>;
  /** The clients to SCAN for `db`: one per master. */
  scanNodes(db: number): Promise<Redis[]>;
  close(): void;
}

export async function openSide(name: "source" | "target", endpoint: RedisEndpoint): Promise<VerifySide> {
  // No auto-pipelining: ioredis drops the command name of callBuffer() when it auto-pipelines. Concurrent
  // commands are pipelined on the socket anyway (ioredis writes each one without waiting for replies).
  const opts = { name: `ferry-verify-${name}` };
  const seed = await connectRedis(endpoint, opts);
  const opened: Array<Redis | Cluster> = [seed];
  const close = () => {
    for (const c of opened) c.disconnect();
  };
  try {
    const topology = await detectTopology(seed, endpoint);
    if (topology.kind === "standalone") {
      const readers = new Map<number, Promise<Redis>>();
      const keyspace = parseKeyspace(parseInfo(String(await seed.info("keyspace"))));
      const reader = (db: number) => {
        let r = readers.get(db);
        if (!r) {
          r = connectRedis(endpoint, { ...opts, db }).then((c) => {
            opened.push(c);
            return c;
          });
          readers.set(db, r);
        }
        return r;
      };
      return {
        name,
        kind: "standalone",
        keyspace,
        reader,
        scanNodes: async (db) => [await reader(db)],
        close,
      };
    }
    const masters = await Promise.all(topology.masters.map((m) => connectRedis(m.endpoint, opts)));
    opened.push(...masters);
    const cluster = await connectCluster(
      topology.masters.map((m) => m.endpoint),
      opts,
    );
    opened.push(cluster);
    const keyspace = new Map<number, number>();
    for (const m of masters) {
      for (const [db, n] of parseKeyspace(parseInfo(String(await m.info("keyspace"))))) {
        keyspace.set(db, (keyspace.get(db) ?? 0) + n);
      }
    }
    const onlyDb0 = (db: number) => {
      if (db !== 0) {
        throw new BadInputError(
          `the ${name} is a cluster, which only has db 0 (asked for db ${db})`,
          "map dbs with --db-map, e.g. --db-map 3:0",
        );
      }
    };
    return {
      name,
      kind: "cluster",
      keyspace,
      reader: async (db) => {
        onlyDb0(db);
        return cluster;
      },
      scanNodes: async (db) => {
        onlyDb0(db);
        return masters;
      },
      close,
    };
  } catch (err) {
    close();
    throw err;
  }
}

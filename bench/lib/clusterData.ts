/**
 * Cluster side of the bench: the masters of a cluster with the slots each serves, the seeded mixed
 * dataset of `dataset.ts` written across them, and key counts that leave ferry's markers out.
 *
 * `fillDataset` writes through `client.pipeline()`; an ioredis `Cluster` pipeline refuses keys of
 * different slots, and a pipeline sent to one node would get MOVED for two thirds of its keys (which
 * `fillDataset` does not check). So the fill goes through a router that looks like a client: each
 * pipelined command goes to the pipeline of the master serving its key's slot.
 */
import type { Redis } from "ioredis";
import { slotOf } from "../../core/cluster/slots.ts";
import { fetchShards } from "../../core/cluster/topology.ts";
import type { RedisClusterProc, RedisProc } from "../../test/helpers/redis.ts";
import { type DatasetInfo, fillDataset } from "./dataset.ts";
import { markerKeys, totalKeys } from "./keyspace.ts";

export interface ClusterMaster {
  proc: RedisProc;
  client: Redis;
  /** Inclusive [start, end] slot ranges. */
  slots: Array<[number, number]>;
}

/** The masters that serve slots, each with a client (closed by the cluster's stop()). */
export async function clusterMasters(cluster: RedisClusterProc): Promise<ClusterMaster[]> {
  const first = cluster.nodes[0];
  if (!first) throw new Error("cluster without nodes");
  const shards = await fetchShards(first.client());
  return shards.map((shard) => {
    const proc = cluster.nodes.find((n) => n.port === shard.port);
    if (!proc) throw new Error(`master ${shard.host}:${shard.port} is not a node of this cluster`);
    return { proc, client: proc.client(), slots: shard.slots };
  });
}

/** slot → index of the master serving it; throws when a slot is unserved (the fill would be lost). */
export function slotOwners(ranges: ReadonlyArray<ReadonlyArray<readonly [number, number]>>): Uint8Array {
  const owners = new Uint8Array(16384).fill(255);
  ranges.forEach((own, index) => {
    for (const [from, to] of own) owners.fill(index, from, to + 1);
  });
  const hole = owners.indexOf(255);
  if (hole >= 0) throw new Error(`slot ${hole} has no master`);
  return owners;
}

type Pipe = ReturnType<Redis["pipeline"]>;

/**
 * A stand-in client for `fillDataset`: `pipeline()` gives a pipeline whose every command (key first,
 * as in every command the generator sends) is queued on its slot's master; `exec()` runs them all
 * and throws on the first error reply. `info()` sums used_memory over the masters.
 */
function routingClient(masters: ClusterMaster[]): Redis {
  const owners = slotOwners(masters.map((m) => m.slots));
  const pipeline = (): Pipe => {
    const pipes = masters.map((m) => m.client.pipeline());
    const router = new Proxy(
      {},
      {
        get: (_, name: string) => {
          if (name === "exec")
            return async () => {
              for (const replies of await Promise.all(pipes.map((p) => p.exec())))
                for (const [err] of replies ?? []) if (err) throw err;
              return [];
            };
          return (key: string | Buffer, ...args: unknown[]) => {
            const pipe = pipes[owners[slotOf(key)]!]! as unknown as Record<
              string,
              (...a: unknown[]) => unknown
            >;
            pipe[name]!(key, ...args);
            return router;
          };
        },
      },
    );
    return router as Pipe;
  };
  const info = async (section: string): Promise<string> => {
    const texts = await Promise.all(masters.map((m) => m.client.info(section)));
    const used = texts.reduce((sum, t) => sum + Number(/used_memory:(\d+)/.exec(t)?.[1] ?? 0), 0);
    return `used_memory:${used}\r\n`;
  };
  return { pipeline, info } as unknown as Redis;
}

/** The snapshot bench's seeded dataset, spread over the cluster's masters by slot. */
export function fillCluster(
  masters: ClusterMaster[],
  keys: number,
  bigKeyElements: number,
  seed = 1,
): Promise<DatasetInfo> {
  return fillDataset(routingClient(masters), keys, bigKeyElements, seed);
}

/** Keys per master (INFO keyspace), ferry's markers (`prefix`, SCAN) left out. */
export async function keysPerMaster(masters: ClusterMaster[], prefix = "__ferry:"): Promise<number[]> {
  return Promise.all(
    masters.map(async (m) => (await totalKeys(m.client)) - (await markerKeys(m.client, prefix))),
  );
}

export async function clusterKeys(masters: ClusterMaster[], prefix = "__ferry:"): Promise<number> {
  return (await keysPerMaster(masters, prefix)).reduce((a, b) => a + b, 0);
}

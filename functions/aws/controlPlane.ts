/**
 * The API's runner on AWS: ControlPlaneRunner with replicator tasks on ECS, the source's masters read
 * from the source itself (the API function runs in the stack's VPC) and marker removal on the target.
 */
import { connectRedis } from "../../core/connect/client.ts";
import { detectTopology } from "../../core/connect/topology.ts";
import { parseRedisUrl } from "../../core/connect/url.ts";
import {
  ControlPlaneRunner,
  type ReplicatorTasks,
  type SourceShard,
} from "../../core/jobs/controlPlaneRunner.ts";
import type { JobSpec } from "../../core/jobs/spec.ts";
import type { StoredStatus } from "../../core/jobs/view.ts";
import type { JobStore, OffsetStore } from "../../core/ports.ts";
import { endpointUrl, type SecretResolver } from "./secrets.ts";
import { createWriterForTarget } from "./targetWriters.ts";

/**
 * One shard per source master. Cluster shards are named by their first slot range, as the embedded
 * runtime names them: a failover promotes a replica with another node id but the same slots.
 */
export async function listSourceShards(spec: JobSpec, secrets: SecretResolver): Promise<SourceShard[]> {
  const endpoint = parseRedisUrl(await endpointUrl(spec.source, secrets), { role: "source", env: {} });
  const client = await connectRedis(endpoint, { name: "ferry-api-inspect" });
  try {
    const topology = await detectTopology(client, endpoint);
    if (topology.kind === "standalone") return [{ shard: "standalone" }];
    return topology.masters.map((m) => ({
      shard: `slots-${m.slots[0]?.[0] ?? 0}-${m.slots[0]?.[1] ?? 0}`,
      source: { host: m.endpoint.host, port: m.endpoint.port },
    }));
  } finally {
    client.disconnect();
  }
}

export function createAwsRunner(deps: {
  store: JobStore<JobSpec, StoredStatus>;
  offsets?: OffsetStore;
  secrets: SecretResolver;
  /** ECS in production (functions/aws/ecsTasks.ts); child processes in the local end-to-end test. */
  tasks: ReplicatorTasks;
  /** Job store poll while a cutover waits for lag 0 (default 1000 ms). */
  pollMs?: number;
}): ControlPlaneRunner {
  return new ControlPlaneRunner({
    tasks: deps.tasks,
    store: deps.store,
    ...(deps.offsets ? { offsets: deps.offsets } : {}),
    ...(deps.pollMs ? { pollMs: deps.pollMs } : {}),
    sourceShards: (spec) => listSourceShards(spec, deps.secrets),
    removeMarkers: async (id, spec) => {
      const target = parseRedisUrl(await endpointUrl(spec.target, deps.secrets), { role: "target", env: {} });
      const writer = await createWriterForTarget(target);
      try {
        return await writer.removeMarkers(id);
      } finally {
        await writer.close();
      }
    },
  });
}

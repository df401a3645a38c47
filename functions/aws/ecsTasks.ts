/**
 * ReplicatorTasks on ECS Fargate: RunTask per source master with the job and shard in the container
 * environment, StopTask (SIGTERM, then stopTimeout) to stop, ListTasks by `startedBy` to find a
 * job's tasks — the job id (`job-` + 16 hex) fits ECS's 36-character `startedBy`, so no table of
 * task ARNs has to be kept in step with ECS.
 */
import { type ECSClient, ListTasksCommand, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { FatalError, RetryableError } from "../../core/errors.ts";
import type { ReplicatorTask, ReplicatorTasks } from "../../core/jobs/controlPlaneRunner.ts";

/** What SST's `link: [replicator]` exposes about an `sst.aws.Task` (Resource.Replicator). */
export interface ReplicatorTaskResource {
  cluster: string;
  taskDefinition: string;
  containers: string[];
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
}

/**
 * The Replicator task as linked to this function: `SST_RESOURCE_<name>` (JSON) when set, else SST's
 * encrypted link file (`Resource.<name>`, present when SST deployed the function). Null: no task
 * is linked, so this deployment cannot start replicators.
 */
export async function linkedTaskResource(
  env: NodeJS.ProcessEnv,
  name = "Replicator",
): Promise<ReplicatorTaskResource | null> {
  const raw = env[`SST_RESOURCE_${name}`];
  if (raw) return JSON.parse(raw) as ReplicatorTaskResource;
  if (!env["SST_KEY_FILE"]) return null;
  const { Resource } = await import("sst");
  const links = Resource as unknown as Record<string, ReplicatorTaskResource | undefined>;
  return name in links ? (links[name] ?? null) : null;
}

export class EcsReplicatorTasks implements ReplicatorTasks {
  constructor(
    private readonly ecs: ECSClient,
    private readonly resource: ReplicatorTaskResource,
  ) {}

  async run(task: ReplicatorTask): Promise<string> {
    const environment = [
      { name: "FERRY_JOB_ID", value: task.job },
      { name: "FERRY_SHARD", value: task.shard },
      { name: "FERRY_SHARD_COUNT", value: String(task.shardCount) },
      ...(task.source
        ? [{ name: "FERRY_SOURCE_ADDRESS", value: `${task.source.host}:${task.source.port}` }]
        : []),
    ];
    const out = await this.call("RunTask", () =>
      this.ecs.send(
        new RunTaskCommand({
          cluster: this.resource.cluster,
          taskDefinition: this.resource.taskDefinition,
          launchType: "FARGATE",
          startedBy: task.job,
          count: 1,
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: this.resource.subnets,
              securityGroups: this.resource.securityGroups,
              assignPublicIp: this.resource.assignPublicIp ? "ENABLED" : "DISABLED",
            },
          },
          overrides: {
            containerOverrides: this.resource.containers.map((name) => ({ name, environment })),
          },
        }),
      ),
    );
    const arn = out.tasks?.[0]?.taskArn;
    if (!arn) {
      const reason = out.failures?.map((f) => `${f.arn ?? ""} ${f.reason ?? ""}`.trim()).join("; ") ?? "none";
      throw new RetryableError(
        `ECS did not start the replicator of ${task.job}/${task.shard}: ${reason}`,
        "retry the job (resume); check the cluster's Fargate capacity and the subnets",
      );
    }
    return arn;
  }

  async running(job: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call("ListTasks", () =>
        this.ecs.send(
          new ListTasksCommand({
            cluster: this.resource.cluster,
            startedBy: job,
            desiredStatus: "RUNNING",
            ...(nextToken ? { nextToken } : {}),
          }),
        ),
      );
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    return arns;
  }

  async stop(taskId: string, reason: string): Promise<void> {
    await this.call("StopTask", () =>
      this.ecs.send(new StopTaskCommand({ cluster: this.resource.cluster, task: taskId, reason })),
    );
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof FatalError || err instanceof RetryableError) throw err;
      const name = err instanceof Error ? err.name : "";
      if (/AccessDenied|ClusterNotFound|InvalidParameter/i.test(name)) {
        throw new FatalError(
          `ECS ${operation} failed: ${String(err)}`,
          "check the API's IAM role and the task link",
          {
            cause: err,
          },
        );
      }
      throw new RetryableError(`ECS ${operation} failed: ${String(err)}`, "retry; ECS may be throttling", {
        cause: err,
      });
    }
  }
}

/**
 * The AWS job runner driven through the JobService, as the API Lambda drives it: each "task" is a
 * real replicator process (functions/replicator.ts) started by a local ReplicatorTasks whose stop
 * is SIGTERM, as ECS StopTask is. Create → streaming, pause (the replicator stops on its own),
 * resume (+CONTINUE), cutover (lag 0 in the heartbeats, task stopped), delete (markers removed).
 *
 * There is no ECS emulator on this machine: EcsReplicatorTasks is checked against a client that
 * records the commands it is sent (request shapes only; ECS itself is not exercised).
 */
import { randomBytes } from "node:crypto";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DynamoOffsetStore } from "../../core/adapters/dynamodb/index.ts";
import type { ReplicatorTask, ReplicatorTasks } from "../../core/jobs/controlPlaneRunner.ts";
import { JobService } from "../../core/jobs/service.ts";
import { JobSpecSchema } from "../../core/jobs/spec.ts";
import { createAwsRunner } from "../../functions/aws/controlPlane.ts";
import { EcsReplicatorTasks, linkedTaskResource } from "../../functions/aws/ecsTasks.ts";
import { startLoad } from "../helpers/load.ts";
import { type RedisProc, waitFor } from "../helpers/redis.ts";
import {
  type AwsWorld,
  infoNumber,
  type Poller,
  type ReplicatorProcess,
  spawnReplicator,
  startAwsWorld,
  startPoller,
} from "./e2eHarness.ts";

/** ReplicatorTasks as child processes: RunTask = spawn, StopTask = SIGTERM. */
class LocalTasks implements ReplicatorTasks {
  readonly started: Array<{ task: ReplicatorTask; proc: ReplicatorProcess; id: string }> = [];
  constructor(private readonly env: Record<string, string>) {}

  async run(task: ReplicatorTask): Promise<string> {
    const id = `local-task-${this.started.length + 1}`;
    const proc = spawnReplicator({
      ...this.env,
      FERRY_JOB_ID: task.job,
      FERRY_SHARD: task.shard,
      FERRY_SHARD_COUNT: String(task.shardCount),
      FERRY_TASK_ID: id,
    });
    this.started.push({ task, proc, id });
    return id;
  }

  async running(job: string): Promise<string[]> {
    return this.started.filter((t) => t.task.job === job && t.proc.child.exitCode === null).map((t) => t.id);
  }

  async stop(taskId: string): Promise<void> {
    this.started.find((t) => t.id === taskId)?.proc.child.kill("SIGTERM");
  }
}

let world: AwsWorld;
let source: RedisProc;
let src: Redis;
let dst: Redis;
let poller: Poller;
let tasks: LocalTasks;
let service: JobService;
let offsets: DynamoOffsetStore;

beforeAll(async () => {
  world = await startAwsWorld();
  ({ source, src, dst, offsets } = world);
  poller = startPoller(world.sqs.client, world.queueUrl, world.handler);
  tasks = new LocalTasks(world.replicatorEnv);
  const { jobs: store, secrets } = world;
  const runner = createAwsRunner({ store, offsets, secrets, tasks, pollMs: 200 });
  service = new JobService({ store, runner });
}, 30_000);

afterAll(async () => {
  for (const { proc } of tasks?.started ?? []) {
    if (proc.child.exitCode === null) proc.child.kill("SIGKILL");
    await proc.exited;
  }
  await poller?.stop();
  await world?.stop();
});

const identical = () => world.identical();

describe("ControlPlaneRunner with replicator processes as tasks", () => {
  it("create → streaming, pause stops the task, resume continues by PSYNC, cutover stops it, delete cleans up", async () => {
    await src.set("before:start", "1");
    const spec = JobSpecSchema.parse({ source: source.url, target: { secret: { env: "FERRY_E2E_TARGET" } } });
    const { job } = await service.create(spec);
    expect(tasks.started.map((t) => t.task)).toEqual([{ job: job.id, shard: "standalone", shardCount: 1 }]);
    const load = startLoad({ url: source.url, keys: 50, pipeline: 10, seed: 3 });
    await waitFor(async () => (await service.get(job.id)).state === "streaming", 30_000, 100);
    await load.stop();
    await waitFor(identical, 30_000, 250);

    // Pause: the service only writes the state; the replicator sees it and stops by itself.
    await service.act(job.id, "pause");
    expect(await tasks.started[0]!.proc.exited).toBe(0);
    expect(await tasks.running(job.id)).toEqual([]);
    const stats = await src.info("stats");
    for (let i = 0; i < 100; i++) await src.incr("paused:counter");

    await service.act(job.id, "resume");
    expect(tasks.started).toHaveLength(2);
    await waitFor(async () => (await dst.get("paused:counter")) === "100", 30_000, 100);
    expect(infoNumber(await src.info("stats"), "sync_partial_ok")).toBe(
      infoNumber(stats, "sync_partial_ok") + 1,
    );
    expect(infoNumber(await src.info("stats"), "sync_full")).toBe(infoNumber(stats, "sync_full"));

    // Cutover: lag 0 in two fresh heartbeats, then the task is stopped (SIGTERM) and exits cleanly.
    const { job: done, synced } = await service.act(job.id, "cutover", { waitMs: 30_000 });
    expect(synced).toBe(true);
    expect(done.state).toBe("completed");
    expect(await tasks.started[1]!.proc.exited).toBe(0);
    expect(await identical()).toBe(true);

    const { markersRemoved } = await service.delete(job.id);
    expect(markersRemoved).toBeGreaterThan(0);
    expect(await dst.keys("__ferry:*")).toEqual([]);
    expect(await offsets.get(job.id, "standalone")).toBeNull();
  }, 120_000);
});

describe("EcsReplicatorTasks (recording client: no ECS emulator here)", () => {
  it("runs a Fargate task per shard with the job in the container environment, lists by startedBy, stops", async () => {
    const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
    const client = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: command.constructor.name, input: command.input });
        if (command.constructor.name === "RunTaskCommand") return { tasks: [{ taskArn: "arn:task/1" }] };
        if (command.constructor.name === "ListTasksCommand") return { taskArns: ["arn:task/1"] };
        return {};
      },
    } as unknown as ECSClient;
    const resource = {
      cluster: "ferry-cluster",
      taskDefinition: "ferry-replicator:3",
      containers: ["Replicator"],
      subnets: ["subnet-a"],
      securityGroups: ["sg-1"],
      assignPublicIp: false,
    };
    // The API finds the task through SST's link; without one it runs no replicators.
    expect(await linkedTaskResource({ SST_RESOURCE_Replicator: JSON.stringify(resource) })).toEqual(resource);
    expect(await linkedTaskResource({})).toBeNull();
    const ecs = new EcsReplicatorTasks(client, resource);
    const job = `job-${randomBytes(8).toString("hex")}`;
    const arn = await ecs.run({
      job,
      shard: "slots-0-5460",
      shardCount: 3,
      source: { host: "10.0.0.7", port: 6379 },
    });
    expect(arn).toBe("arn:task/1");
    expect(await ecs.running(job)).toEqual(["arn:task/1"]);
    await ecs.stop(arn, "job paused");
    expect(sent.map((s) => s.name)).toEqual(["RunTaskCommand", "ListTasksCommand", "StopTaskCommand"]);
    expect(sent[0]!.input).toMatchObject({
      cluster: "ferry-cluster",
      launchType: "FARGATE",
      startedBy: job,
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-a"], assignPublicIp: "DISABLED" } },
      overrides: {
        containerOverrides: [
          {
            name: "Replicator",
            environment: [
              { name: "FERRY_JOB_ID", value: job },
              { name: "FERRY_SHARD", value: "slots-0-5460" },
              { name: "FERRY_SHARD_COUNT", value: "3" },
              { name: "FERRY_SOURCE_ADDRESS", value: "10.0.0.7:6379" },
            ],
          },
        ],
      },
    });
    expect(sent[1]!.input).toMatchObject({
      cluster: "ferry-cluster",
      startedBy: job,
      desiredStatus: "RUNNING",
    });
    expect(sent[2]!.input).toEqual({ cluster: "ferry-cluster", task: arn, reason: "job paused" });
  });
});

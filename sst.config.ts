/// <reference path="./.sst/platform/config.d.ts" />
// The AWS shape of ferry (DESIGN.md; docs/aws.md). Numbers and IAM statements live in infra/ as
// plain data; this file wires the SST components. Type-check: `tsc -p tsconfig.infra.json` after
// `sst install` (see docs/aws.md "Type-checking the infra offline").
export default $config({
  app(input) {
    return {
      name: "redis-ferry",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
      home: "aws",
    };
  },
  async run() {
    const { API, QUEUE, REPLICATOR, RUNTIME, WRITER } = await import("./infra/settings.ts");
    const policies = await import("./infra/policies.ts");
    const { JOBS_TABLE, OFFSETS_TABLE } = await import("./core/adapters/dynamodb/schema.ts");

    const region = aws.getRegionOutput().name;
    const account = aws.getCallerIdentityOutput().accountId;
    const arn = (pattern: string) =>
      $interpolate`arn:aws:${pattern.split(":")[0]}:${region}:${account}:${pattern.slice(pattern.indexOf(":") + 1)}`;

    // Network: the target (and usually the source) Redis lives in a VPC. fck-nat on EC2 instead of a
    // managed NAT gateway (~$4/month vs ~$32/month per AZ) for the AWS API calls from private subnets.
    const vpc = new sst.aws.Vpc("Vpc", { az: 2, nat: "ec2" });
    const cluster = new sst.aws.Cluster("Cluster", { vpc });

    // State: jobs (versioned records, TTL once finished) and per-shard applied offsets.
    const jobs = new sst.aws.Dynamo("Jobs", {
      fields: { [JOBS_TABLE.hashKey]: "string" },
      primaryIndex: { hashKey: JOBS_TABLE.hashKey },
      ttl: JOBS_TABLE.ttlAttribute,
    });
    const offsets = new sst.aws.Dynamo("Offsets", {
      fields: { [OFFSETS_TABLE.hashKey]: "string", [OFFSETS_TABLE.rangeKey]: "string" },
      primaryIndex: { hashKey: OFFSETS_TABLE.hashKey, rangeKey: OFFSETS_TABLE.rangeKey },
    });

    // Batches: FIFO (order per job:shard group), explicit dedup ids, 1 MiB messages, FIFO DLQ.
    const deadLetters = new sst.aws.Queue("BatchesDlq", {
      fifo: true,
      transform: {
        queue: (args: aws.sqs.QueueArgs) => {
          args.maxMessageSize = QUEUE.maximumMessageSizeBytes;
          args.messageRetentionSeconds = QUEUE.retentionSeconds;
        },
      },
    });
    const queue = new sst.aws.Queue("Batches", {
      fifo: { contentBasedDeduplication: false },
      visibilityTimeout: `${QUEUE.visibilityTimeoutSeconds} seconds`,
      dlq: { queue: deadLetters.arn, retry: QUEUE.maxReceiveCount },
      transform: {
        queue: (args: aws.sqs.QueueArgs) => {
          args.maxMessageSize = QUEUE.maximumMessageSizeBytes;
          args.messageRetentionSeconds = QUEUE.retentionSeconds;
        },
      },
    });

    const tableEnv = { FERRY_JOBS_TABLE: jobs.name, FERRY_OFFSETS_TABLE: offsets.name };
    const secretReads = policies.secretReadPermissions(arn);

    // Writer: FIFO batches of ≤ 10, partial batch responses (functions/writer.ts).
    queue.subscribe(
      {
        handler: "functions/writer.handler",
        runtime: RUNTIME,
        timeout: `${WRITER.timeoutSeconds} seconds`,
        memory: `${WRITER.memoryMb} MB`,
        vpc,
        environment: tableEnv,
        permissions: [
          ...policies.writerPermissions({ jobs: jobs.arn, offsets: offsets.arn }),
          ...secretReads,
        ],
      },
      { batch: { size: WRITER.batchSize, partialResponses: true } },
    );

    // Replicator: a Fargate task per source master, run by the API when a job starts.
    const replicator = new sst.aws.Task("Replicator", {
      cluster,
      cpu: REPLICATOR.cpu,
      memory: REPLICATOR.memory,
      image: { context: ".", dockerfile: REPLICATOR.dockerfile },
      environment: { ...tableEnv, FERRY_QUEUE_URL: queue.url },
      permissions: [
        ...policies.replicatorPermissions({ queue: queue.arn, jobs: jobs.arn, offsets: offsets.arn }),
        ...secretReads,
      ],
      transform: {
        taskDefinition: (args: aws.ecs.TaskDefinitionArgs) => {
          args.containerDefinitions = $jsonParse(args.containerDefinitions).apply(
            (defs: Array<Record<string, unknown>>) =>
              JSON.stringify(defs.map((d) => ({ ...d, stopTimeout: REPLICATOR.stopTimeoutSeconds }))),
          );
        },
      },
    });

    // API: IAM-authorised function URL (callers sign with SigV4), starts/stops replicator tasks.
    const api = new sst.aws.Function("Api", {
      handler: API.handler,
      runtime: RUNTIME,
      timeout: `${API.timeoutSeconds} seconds`,
      memory: `${API.memoryMb} MB`,
      url: { authorization: "iam" },
      vpc,
      link: [replicator],
      environment: {
        ...tableEnv,
        FERRY_QUEUE_URL: queue.url,
        // The function URL authorises callers (SigV4); functions/api.ts then checks no bearer key.
        FERRY_API_AUTH: "iam",
      },
      permissions: [
        ...policies.apiPermissions({ jobs: jobs.arn, offsets: offsets.arn }),
        // RunTask / ListTasks / StopTask of functions/aws/ecsTasks.ts (the link alone lacks ListTasks).
        ...policies.apiTaskPermissions({
          cluster: cluster.nodes.cluster.arn,
          taskDefinition: replicator.taskDefinition,
          tasks: cluster.nodes.cluster.arn.apply(policies.taskArnPattern),
          roles: [replicator.nodes.taskRole.arn, replicator.nodes.executionRole.arn],
        }),
      ],
    });

    return {
      api: api.url,
      queue: queue.url,
      deadLetterQueue: deadLetters.url,
      jobsTable: jobs.name,
      offsetsTable: offsets.name,
    };
  },
});

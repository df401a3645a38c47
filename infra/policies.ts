/**
 * Least-privilege IAM statements per component, in the shape of SST's `permissions` entries.
 * Resource ARNs are passed in (Pulumi outputs at deploy time, strings in tests).
 */
import { SECRET_PREFIX } from "./settings.ts";

/** IAM's "all resources": only for actions that have no resource of their own, always with a condition. */
export const ANY_RESOURCE = "*";

/** An IAM condition (SST's `conditions` entry): `test` is the operator, e.g. ArnEquals. */
export interface Condition<A = string> {
  test: string;
  variable: string;
  values: Array<A | string>;
}

export interface Permission<A = string> {
  actions: string[];
  resources: Array<A | typeof ANY_RESOURCE>;
  conditions?: Condition<A>[];
}

export function secretReadPermissions<A>(arn: (pattern: string) => A): Permission<A>[] {
  return [
    {
      actions: ["secretsmanager:GetSecretValue"],
      resources: [arn(`secretsmanager:secret:${SECRET_PREFIX}*`)],
    },
    // SSM hierarchical names start with "/" (`/ferry/target-url`); the ARN drops that slash.
    { actions: ["ssm:GetParameter"], resources: [arn(`ssm:parameter/${SECRET_PREFIX}*`)] },
  ];
}

/** Writer Lambda: reads jobs, moves offsets forward. (SQS receive/delete come with the subscription.) */
export function writerPermissions<A>(t: { jobs: A; offsets: A }): Permission<A>[] {
  return [
    { actions: ["dynamodb:GetItem"], resources: [t.jobs] },
    { actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources: [t.offsets] },
  ];
}

/** Replicator task: sends batches, reads its job, reads/resets offsets, reports status on the job. */
export function replicatorPermissions<A>(t: { queue: A; jobs: A; offsets: A }): Permission<A>[] {
  return [
    { actions: ["sqs:SendMessage", "sqs:GetQueueAttributes"], resources: [t.queue] },
    { actions: ["dynamodb:GetItem", "dynamodb:PutItem"], resources: [t.jobs] },
    { actions: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources: [t.offsets] },
  ];
}

/** API Lambda: job CRUD and listing, offsets for status and cleanup. ECS: apiTaskPermissions. */
export function apiPermissions<A>(t: { jobs: A; offsets: A }): Permission<A>[] {
  return [
    {
      actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
      resources: [t.jobs],
    },
    { actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem"], resources: [t.offsets] },
  ];
}

/** Task ARNs of a cluster (`…:task/<cluster name>/<id>`) from the cluster's ARN (`…:cluster/<name>`). */
export function taskArnPattern(clusterArn: string): string {
  return `${clusterArn.replace(":cluster/", ":task/")}/*`;
}

/**
 * API Lambda → ECS: exactly the calls of EcsReplicatorTasks (functions/aws/ecsTasks.ts), each on the
 * resource IAM authorises it against (Service Authorization Reference, "Amazon ECS"), pinned to the
 * stack's cluster. SST's Task link also grants `ecs:*` on the task definition and task ARNs, but not
 * ListTasks, and this policy should not depend on what a link happens to include.
 * test/aws/infra.test.ts checks every ECS command the code sends against these statements.
 */
export function apiTaskPermissions<A>(t: {
  /** The cluster's ARN. */
  cluster: A;
  /** The replicator's task definition ARN (with revision). */
  taskDefinition: A;
  /** taskArnPattern(cluster). */
  tasks: A;
  /** The task role and execution role that RunTask hands to the task. */
  roles: A[];
}): Permission<A>[] {
  const inCluster: Condition<A>[] = [{ test: "ArnEquals", variable: "ecs:cluster", values: [t.cluster] }];
  return [
    { actions: ["ecs:RunTask"], resources: [t.taskDefinition], conditions: inCluster },
    { actions: ["ecs:StopTask"], resources: [t.tasks], conditions: inCluster },
    // ListTasks is authorised on container instances, which Fargate does not have: AWS documents it
    // on "*" narrowed by the ecs:cluster condition (a cluster ARN as resource is denied).
    { actions: ["ecs:ListTasks"], resources: [ANY_RESOURCE], conditions: inCluster },
    {
      actions: ["iam:PassRole"],
      resources: t.roles,
      conditions: [
        { test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] },
      ],
    },
  ];
}

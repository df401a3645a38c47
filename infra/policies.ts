/**
 * Least-privilege IAM statements per component, in the shape of SST's `permissions` entries.
 * Resource ARNs are passed in (Pulumi outputs at deploy time, strings in tests).
 */
import { SECRET_PREFIX } from "./settings.ts";

export interface Permission<A = string> {
  actions: string[];
  resources: A[];
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

/** API Lambda: job CRUD and listing, offsets for status and cleanup. (RunTask comes with the Task link.) */
export function apiPermissions<A>(t: { jobs: A; offsets: A }): Permission<A>[] {
  return [
    {
      actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
      resources: [t.jobs],
    },
    { actions: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DeleteItem"], resources: [t.offsets] },
  ];
}

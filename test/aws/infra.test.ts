/** The deployment numbers that AWS limits constrain (DESIGN.md), checked without an AWS account. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ECSClient } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../core/wire/format.ts";
import { EcsReplicatorTasks } from "../../functions/aws/ecsTasks.ts";
import {
  ANY_RESOURCE,
  apiPermissions,
  apiTaskPermissions,
  type Permission,
  replicatorPermissions,
  secretReadPermissions,
  taskArnPattern,
  writerPermissions,
} from "../../infra/policies.ts";
import { QUEUE, SECRET_PREFIX, WRITER } from "../../infra/settings.ts";

describe("infra settings", () => {
  it("queue visibility is at least 6× the writer timeout (AWS guidance for Lambda consumers)", () => {
    expect(QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * WRITER.timeoutSeconds);
    expect(QUEUE.visibilityTimeoutSeconds).toBeLessThanOrEqual(12 * 3600);
  });

  it("the queue accepts the largest message the wire format produces, and FIFO batches are ≤ 10", () => {
    expect(QUEUE.maximumMessageSizeBytes).toBe(1_048_576);
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBeLessThan(QUEUE.maximumMessageSizeBytes);
    expect(WRITER.batchSize).toBeLessThanOrEqual(10);
  });

  it("permissions are scoped to the stack's resources and the secret prefix; '*' only under a condition", () => {
    const t = { jobs: "arn:jobs", offsets: "arn:offsets", queue: "arn:queue" };
    const all = [
      ...writerPermissions(t),
      ...replicatorPermissions(t),
      ...apiPermissions(t),
      ...apiTaskPermissions(STACK),
      ...secretReadPermissions((p) => `arn:aws:${p}`),
    ];
    for (const p of all) {
      expect(p.resources.length).toBeGreaterThan(0);
      // "*" only where IAM offers no resource (ListTasks), and then narrowed by a condition.
      for (const r of p.resources) if (r === ANY_RESOURCE) expect(p.conditions?.length).toBeGreaterThan(0);
      for (const a of p.actions) expect(a).not.toMatch(/\*/);
    }
    const secrets = secretReadPermissions((p) => `arn:aws:${p}`).flatMap((p) => p.resources);
    for (const r of secrets) expect(r).toContain(`${SECRET_PREFIX}*`);
    // The writer never writes jobs and never deletes offsets.
    const writer = writerPermissions(t);
    expect(writer.find((p) => p.resources.includes("arn:jobs"))?.actions).toEqual(["dynamodb:GetItem"]);
  });
});

// ---- API → ECS: every call the code makes is allowed by the API's policy, and nothing wider ----

const ACCOUNT = "arn:aws:ecs:eu-west-1:123456789012";
const clusterArn = (name: string) => `${ACCOUNT}:cluster/${name}`;
const STACK = {
  cluster: clusterArn("ferry"),
  taskDefinition: `${ACCOUNT}:task-definition/ferry-replicator:3`,
  tasks: taskArnPattern(clusterArn("ferry")),
  roles: ["arn:aws:iam::123456789012:role/ferry-task", "arn:aws:iam::123456789012:role/ferry-exec"],
};

/** A task's ARN in the long format ECS uses since 2018: `…:task/<cluster name>/<task id>`. */
const taskArn = (cluster: string) => `${ACCOUNT}:task/${cluster.split(":cluster/")[1]}/0123abcd`;

/** One authorisation IAM performs for an API call: action, resource ARN, request context. */
interface Check {
  action: string;
  resource: string;
  context: Record<string, string>;
}

/**
 * What IAM checks for each ECS operation (Service Authorization Reference, "Amazon ECS", and the
 * ECS guide's ListTasks example), for a call made in cluster `c`. Data, not derived from
 * infra/policies.ts: a policy that grants the wrong resource fails here. ListTasks has no resource
 * of its own on Fargate (its type is container-instance): only a "*" statement can match it.
 */
const IAM_CHECKS: Record<
  string,
  (c: { cluster: string; taskDefinition: string; roles: string[] }) => Check[]
> = {
  RunTask: (c) => [
    { action: "ecs:RunTask", resource: c.taskDefinition, context: { "ecs:cluster": c.cluster } },
    // RunTask hands the task definition's roles to ECS.
    ...c.roles.map((role) => ({
      action: "iam:PassRole",
      resource: role,
      context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
    })),
  ],
  StopTask: (c) => [
    {
      action: "ecs:StopTask",
      resource: taskArn(c.cluster),
      context: { "ecs:cluster": c.cluster },
    },
  ],
  DescribeTasks: (c) => [
    {
      action: "ecs:DescribeTasks",
      resource: taskArn(c.cluster),
      context: { "ecs:cluster": c.cluster },
    },
  ],
  ListTasks: (c) => [{ action: "ecs:ListTasks", resource: "*", context: { "ecs:cluster": c.cluster } }],
};

/** IAM wildcard match (`*` any run, `?` one character), case-sensitive as ARNs are. */
function globMatch(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(value);
}

const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  ArnEquals: (p, v) => p === v,
  ArnLike: globMatch,
  StringEquals: (p, v) => p === v,
  StringLike: globMatch,
};

/** Allow-only evaluation: some statement matches action and resource and all its conditions hold. */
function allowed(policy: Permission[], check: Check): boolean {
  return policy.some(
    (p) =>
      p.actions.some((a) => globMatch(a, check.action)) &&
      p.resources.some((r) => globMatch(r, check.resource)) &&
      (p.conditions ?? []).every((c) => {
        const value = check.context[c.variable];
        const op = OPERATORS[c.test];
        if (!op) throw new Error(`add IAM operator ${c.test} to the test's evaluator`);
        return value !== undefined && c.values.some((v) => op(v, value));
      }),
  );
}

/** ECS commands imported anywhere in functions/ and core/ (what any code path may send). */
function importedEcsOperations(): Set<string> {
  const ops = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"@aws-sdk\/client-ecs"/g)) {
          for (const name of m[1]!.matchAll(/\b(\w+)Command\b/g)) ops.add(name[1]!);
        }
      }
    }
  };
  for (const dir of ["functions", "core"]) walk(join(import.meta.dirname, "../..", dir));
  return ops;
}

/** ECS commands EcsReplicatorTasks actually sends through all of its methods. */
async function sentEcsOperations(): Promise<Set<string>> {
  const sent = new Set<string>();
  const client = {
    send: async (command: object) => {
      const name = command.constructor.name.replace(/Command$/, "");
      sent.add(name);
      return name === "RunTask" ? { tasks: [{ taskArn: `${STACK.tasks.slice(0, -1)}1` }] } : {};
    },
  } as unknown as ECSClient;
  const tasks = new EcsReplicatorTasks(client, {
    cluster: STACK.cluster,
    taskDefinition: STACK.taskDefinition,
    containers: ["Replicator"],
    subnets: ["subnet-a"],
    securityGroups: ["sg-1"],
    assignPublicIp: false,
  });
  const arn = await tasks.run({ job: "job-0123456789abcdef", shard: "standalone", shardCount: 1 });
  await tasks.running("job-0123456789abcdef");
  await tasks.stop(arn, "test");
  return sent;
}

describe("API IAM policy covers the ECS calls", () => {
  const policy = [
    ...apiPermissions({ jobs: "arn:jobs", offsets: "arn:offsets" }),
    ...apiTaskPermissions(STACK),
  ];

  it("finds the ECS calls both ways (the import scan is not blind to what is sent)", async () => {
    const sent = await sentEcsOperations();
    const imported = importedEcsOperations();
    expect(sent.size).toBeGreaterThan(0);
    for (const op of sent) expect(imported).toContain(op);
  });

  it("allows every ECS call the code makes, on the resources IAM checks", async () => {
    const ops = new Set([...importedEcsOperations(), ...(await sentEcsOperations())]);
    for (const op of ops) {
      const checks = IAM_CHECKS[op];
      if (!checks) throw new Error(`ECS ${op} is called: add what IAM checks for it to IAM_CHECKS`);
      for (const check of checks(STACK)) {
        expect({ op, ...check, allowed: allowed(policy, check) }).toMatchObject({ allowed: true });
      }
    }
  });

  it("grants no ECS action the code does not call, and nothing in another cluster", async () => {
    const ops = new Set([...importedEcsOperations(), ...(await sentEcsOperations())]);
    const granted = policy.flatMap((p) => p.actions).filter((a) => a.startsWith("ecs:"));
    expect(new Set(granted)).toEqual(new Set([...ops].map((op) => `ecs:${op}`)));
    const elsewhere = {
      cluster: clusterArn("someone-else"),
      taskDefinition: `${ACCOUNT}:task-definition/other:1`,
      roles: ["arn:aws:iam::123456789012:role/admin"],
    };
    for (const op of ops) {
      for (const check of IAM_CHECKS[op]!(elsewhere)) {
        expect({ op, ...check, allowed: allowed(policy, check) }).toMatchObject({ allowed: false });
      }
    }
    // PassRole only to ECS tasks, not to another service.
    const toLambda = {
      action: "iam:PassRole",
      resource: STACK.roles[0]!,
      context: { "iam:PassedToService": "lambda.amazonaws.com" },
    };
    expect(allowed(policy, toLambda)).toBe(false);
  });

  it("the previous policy (link only, no ListTasks statement) fails this check", () => {
    // The evaluator must tell the fixed policy from the broken one, or it proves nothing.
    const withoutListTasks = policy.filter((p) => !p.actions.includes("ecs:ListTasks"));
    expect(allowed(withoutListTasks, IAM_CHECKS["ListTasks"]!(STACK)[0]!)).toBe(false);
    // A ListTasks grant on the cluster ARN (the obvious guess) is not enough either.
    const onCluster: Permission[] = [{ actions: ["ecs:ListTasks"], resources: [STACK.cluster] }];
    expect(allowed(onCluster, IAM_CHECKS["ListTasks"]!(STACK)[0]!)).toBe(false);
  });

  it("sst.config.ts gives the Api function these statements", () => {
    const config = readFileSync(join(import.meta.dirname, "../../sst.config.ts"), "utf8");
    const api = config.slice(config.indexOf('new sst.aws.Function("Api"'));
    const block = api.slice(0, api.indexOf("\n    });"));
    expect(block).toMatch(/permissions:[\s\S]*policies\.apiTaskPermissions\(/);
    expect(block).toMatch(/policies\.taskArnPattern/);
  });
});

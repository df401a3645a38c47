/**
 * Response and parameter schemas of the job API: they validate requests and generate the OpenAPI
 * document (GET /openapi.json), so the document cannot drift from what the server does.
 */
import { z } from "zod";
import { JOB_ID } from "../jobs/service.ts";
import { JOB_MODES, JobSpecSchema } from "../jobs/spec.ts";
import { JOB_ACTIONS, JOB_STATES } from "../jobs/stateMachine.ts";

export const JobIdParams = z.object({
  id: z
    .string()
    .regex(JOB_ID, "a job id: job- followed by 16 hex digits")
    .meta({ example: "job-5f2c9a1be07d4c3a" }),
});

export const ListQuery = z.object({
  state: z.enum(JOB_STATES).optional(),
  label: z
    .string()
    .regex(/^[^=]+=.*$/, "key=value")
    .optional()
    .meta({ description: "only jobs with this label, as key=value", example: "team=payments" }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(2048).optional().meta({ description: "`cursor` of the previous page" }),
});

export const WaitQuery = z.object({
  wait: z.coerce.number().int().min(0).max(900).optional().meta({
    description: "cutover only: seconds to wait for lag 0 before answering (202 if still draining)",
  }),
});

export const CreateHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: "a replay with the same key and body returns the same job; another body → 409" }),
});

export const IfMatchHeaders = z.object({
  "if-match": z
    .string()
    .regex(/^(W\/)?"?\d+"?$/, 'the job version, as returned in ETag (e.g. "3")')
    .optional()
    .meta({ description: "only act if the job is still at this version (ETag of GET /v1/jobs/{id})" }),
});

const JobEventSchema = z.object({
  at: z.string(),
  level: z.enum(["info", "warn", "error"]),
  message: z.string(),
  advice: z.string().optional(),
});

const ShardSchema = z
  .object({
    shard: z.string(),
    address: z.string(),
    phase: z.enum(["connecting", "snapshot", "streaming", "paused", "stopped", "failed"]),
    replid: z.string().nullable(),
    receivedOffset: z.number(),
    appliedOffset: z.number(),
    sourceOffset: z.number(),
    lagBytes: z.number(),
    lagSeconds: z.number(),
    opsPerSecond: z.number(),
    snapshotBytesDone: z.number(),
    snapshotBytesTotal: z.number().nullable(),
    keysDone: z.number(),
    reconnects: z.number(),
    lastError: z.string().nullable(),
    opsApplied: z.number(),
    errors: z.number(),
  })
  .meta({ id: "ShardProgress" });

const ErrorInfo = z.object({ message: z.string(), advice: z.string().optional() });

/** The spec as returned: URLs redacted, sizes as numbers. */
export const JobSpecViewSchema = JobSpecSchema.extend({
  mode: z.enum(JOB_MODES),
  bigKeyThreshold: z.number().int().optional(),
  maxBytes: z.number().int().optional(),
}).meta({ id: "JobSpecView" });

export const JobViewSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    state: z.enum(JOB_STATES),
    version: z.number().int(),
    spec: JobSpecViewSchema,
    labels: z.record(z.string(), z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
    actions: z.array(z.enum(JOB_ACTIONS)).meta({ description: "actions the current state allows" }),
    progress: z.object({
      shards: z.array(ShardSchema),
      keysDone: z.number(),
      bytesDone: z.number(),
      at: z.string().nullable(),
    }),
    lastError: ErrorInfo.nullable(),
    events: z.array(JobEventSchema),
  })
  .meta({ id: "Job" });

export const JobListSchema = z
  .object({ jobs: z.array(JobViewSchema), cursor: z.string().optional() })
  .meta({ id: "JobList" });

export const ActionResultSchema = z
  .object({ job: JobViewSchema, synced: z.boolean().optional() })
  .meta({ id: "ActionResult" });

export const DeleteResultSchema = z
  .object({ id: z.string(), deleted: z.literal(true), markersRemoved: z.number().int() })
  .meta({ id: "DeleteResult" });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    advice: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/**
 * The job spec the API accepts (POST /v1/jobs) and stores: what to migrate, where to, and how.
 * One zod schema serves validation, the TypeScript type and the OpenAPI document.
 *
 * Secrets: an endpoint is either a URL (its password is stored but never returned or logged — views
 * carry the redacted URL) or a reference to a secret resolved at run time by the runner, so the
 * credential never passes through the API at all.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { parseRedisUrl, redactUrl } from "../connect/url.ts";
import { FerryError } from "../errors.ts";
import { FilterSpecSchema } from "../filters/spec.ts";
import { parseSize } from "../pipeline/size.ts";

/** Turns a FerryError thrown by a shared parser into a zod issue, keeping its advice. */
function ferryCheck<T>(fn: (value: T) => unknown) {
  return (value: T, ctx: z.RefinementCtx) => {
    try {
      fn(value);
    } catch (err) {
      if (!(err instanceof FerryError)) throw err;
      ctx.addIssue({ code: "custom", message: err.advice ? `${err.message}: ${err.advice}` : err.message });
    }
  };
}

export const RedisUrlSchema = z
  .string()
  .min(1)
  .max(2048)
  // env: {} — validation must not pick up this process's FERRY_SOURCE_PASSWORD.
  .superRefine(ferryCheck((url: string) => parseRedisUrl(url, { env: {} })))
  .meta({ description: "redis:// or rediss:// URL", example: "redis://:secret@10.0.0.5:6379" });

export const SecretSourceSchema = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name") }),
  z.strictObject({ file: z.string().regex(/^\//, "an absolute path") }),
  z.strictObject({ awsSecret: z.string().min(1).max(2048) }),
  z.strictObject({ ssmParameter: z.string().min(1).max(2048) }),
]);

/** A reference resolved by the runner where it runs (the secret holds the whole Redis URL). */
export const SecretRefSchema = z
  .strictObject({ secret: SecretSourceSchema })
  .meta({ id: "SecretRef", description: "Where the runner reads the endpoint's redis:// URL from" });

export const EndpointSchema = z.union([RedisUrlSchema, SecretRefSchema]).meta({ id: "Endpoint" });

/** Bytes as a number or a human size ("64mb"); always a number once parsed. */
export const ByteSizeSchema = z
  .union([z.number().int().positive(), z.string().min(1).max(32)])
  .superRefine(ferryCheck((v: number | string) => parseSize(v)))
  .transform((v) => parseSize(v))
  .meta({ description: "bytes, or a size such as 64mb / 512k", example: "64mb" });

export const JOB_MODES = ["full+incremental", "full-only", "incremental-only"] as const;

const DB = z.number().int().min(0).max(65535);
const LABEL_KEY = /^[a-z0-9]([a-z0-9._/-]{0,62}[a-z0-9])?$/;

export const JobSpecSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/, "1–100 letters, digits, '.', '_', '-' or spaces")
      .optional(),
    source: EndpointSchema,
    target: EndpointSchema,
    mode: z.enum(JOB_MODES).default("full+incremental"),
    dbMap: z
      .record(z.string().regex(/^\d+$/, "source db numbers as keys"), DB)
      .optional()
      .meta({ description: "source db → target db", example: { "0": 0, "3": 1 } }),
    bigKeyThreshold: ByteSizeSchema.optional(),
    maxOps: z.number().int().positive().optional().meta({ description: "commands/s applied on the target" }),
    maxBytes: ByteSizeSchema.optional().meta({ description: "bytes/s applied on the target" }),
    psyncCommand: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "a command name (managed services rename PSYNC)")
      .optional(),
    tls: z
      .strictObject({
        ca: z.string().min(1).max(65536).optional().meta({ description: "PEM CA bundle" }),
        insecure: z.boolean().optional(),
      })
      .optional(),
    labels: z
      .record(
        z.string().regex(LABEL_KEY, "label keys: lowercase letters, digits, '.', '_', '/', '-' (≤ 64)"),
        z.string().max(256),
      )
      .refine((labels) => Object.keys(labels).length <= 32, "at most 32 labels")
      .optional(),
    // The filters' own schema (core/filters): CLI flags, config files and the API mean the same thing.
    filters: FilterSpecSchema.optional(),
  })
  .meta({ id: "JobSpec" });

export type JobSpecInput = z.input<typeof JobSpecSchema>;
export type JobSpec = z.output<typeof JobSpecSchema>;
export type Endpoint = z.output<typeof EndpointSchema>;
export type SecretRef = z.output<typeof SecretRefSchema>;

/** The spec as the API shows it: URL passwords replaced by `***`. */
export function redactSpec(spec: JobSpec): JobSpec {
  const redact = (e: Endpoint): Endpoint => (typeof e === "string" ? redactUrl(e) : e);
  return { ...spec, source: redact(spec.source), target: redact(spec.target) };
}

/** Stable JSON (sorted keys): the identity of a request body for Idempotency-Key replays. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function specHash(spec: JobSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

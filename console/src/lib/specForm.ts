/**
 * The "new migration" form ↔ JobSpec: form strings become the JSON the API takes, and validation
 * runs the API's own zod schema (core/jobs/spec.ts) so the browser and the server agree on every rule.
 */
import type { z } from "zod";
import { type JobSpecInput, JobSpecSchema } from "../../../core/jobs/spec.ts";

export const SECRET_KINDS = ["url", "env", "file", "awsSecret", "ssmParameter"] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export const SECRET_KIND_LABELS = {
  url: "URL",
  env: "Environment variable",
  file: "File (absolute path)",
  awsSecret: "AWS Secrets Manager",
  ssmParameter: "SSM parameter",
} as const satisfies Record<SecretKind, string>;

export interface SpecForm {
  name: string;
  sourceKind: SecretKind;
  source: string;
  targetKind: SecretKind;
  target: string;
  mode: string;
  dbMap: string;
  bigKeyThreshold: string;
  maxOps: string;
  maxBytes: string;
  psyncCommand: string;
  tlsCa: string;
  tlsInsecure: boolean;
  labels: string;
}

export const EMPTY_FORM: SpecForm = {
  name: "",
  sourceKind: "url",
  source: "",
  targetKind: "url",
  target: "",
  mode: "full+incremental",
  dbMap: "",
  bigKeyThreshold: "",
  maxOps: "",
  maxBytes: "",
  psyncCommand: "",
  tlsCa: "",
  tlsInsecure: false,
  labels: "",
};

/** Field id (the input's id) → message. Ids follow the API's error paths: `source`, `tls.ca`. */
export type FormErrors = Record<string, string>;

function endpoint(kind: SecretKind, value: string): unknown {
  const v = value.trim();
  return kind === "url" ? v : { secret: { [kind]: v } };
}

/** "0=0, 3=1" (commas or new lines) → entries; a malformed pair is reported, not guessed. */
function pairs(text: string, field: string, errors: FormErrors): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of text.split(/[,\n]/)) {
    const p = part.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    if (eq <= 0) {
      errors[field] ??= `"${p}" is not key=value`;
      continue;
    }
    out.push([p.slice(0, eq).trim(), p.slice(eq + 1).trim()]);
  }
  return out;
}

const size = (v: string): number | string => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim());

/** The request body for POST /v1/jobs, plus the errors found while reading the form itself. */
export function formToSpec(form: SpecForm): { body: JobSpecInput; errors: FormErrors } {
  const errors: FormErrors = {};
  const body: Record<string, unknown> = {
    source: endpoint(form.sourceKind, form.source),
    target: endpoint(form.targetKind, form.target),
    mode: form.mode,
  };
  if (form.name.trim()) body["name"] = form.name.trim();
  const dbMap = pairs(form.dbMap, "dbMap", errors);
  if (dbMap.length > 0)
    body["dbMap"] = Object.fromEntries(dbMap.map(([k, v]) => [k, /^\d+$/.test(v) ? Number(v) : v]));
  if (form.bigKeyThreshold.trim()) body["bigKeyThreshold"] = size(form.bigKeyThreshold);
  if (form.maxOps.trim()) body["maxOps"] = Number(form.maxOps.trim());
  if (form.maxBytes.trim()) body["maxBytes"] = size(form.maxBytes);
  if (form.psyncCommand.trim()) body["psyncCommand"] = form.psyncCommand.trim();
  if (form.tlsCa.trim() || form.tlsInsecure) {
    body["tls"] = {
      ...(form.tlsCa.trim() ? { ca: form.tlsCa.trim() } : {}),
      ...(form.tlsInsecure ? { insecure: true } : {}),
    };
  }
  const labels = pairs(form.labels, "labels", errors);
  if (labels.length > 0) body["labels"] = Object.fromEntries(labels);
  return { body: body as JobSpecInput, errors };
}

/** An error path from zod or from the server's problem+json → the form field showing it. */
export function fieldOf(path: readonly PropertyKey[] | string): string {
  const parts = typeof path === "string" ? path.split(".") : path.map(String);
  const [head = "", second] = parts;
  if (head === "tls" && second) return `tls.${second}`;
  return head || "form";
}

export function validate(body: JobSpecInput): FormErrors {
  const result = JobSpecSchema.safeParse(body);
  return result.success ? {} : issuesToErrors(result.error.issues);
}

export function issuesToErrors(issues: readonly z.core.$ZodIssue[]): FormErrors {
  const errors: FormErrors = {};
  for (const issue of issues) {
    const field = fieldOf(issue.path);
    const detail =
      issue.path.length > 1 && field !== `tls.${String(issue.path[1])}`
        ? ` (${issue.path.slice(1).join(".")})`
        : "";
    errors[field] ??= issue.message + detail;
  }
  return errors;
}

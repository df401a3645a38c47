/**
 * Errors as RFC 9457 problem details (`application/problem+json`). Validation failures name every
 * offending field in `errors: [{ path, message }]`, so a client can point at the exact input.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { BadInputError, ConflictError, FatalError, type FerryError, RetryableError } from "../errors.ts";
import { JobNotFoundError } from "../jobs/errors.ts";

export interface FieldError {
  /** Dotted path of the field in its part of the request: `source`, `tls.insecure`, `query.limit`. */
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** What to do about it. */
  advice?: string;
  errors?: FieldError[];
}

const PROBLEM_TYPES = {
  400: ["validation", "Invalid request"],
  401: ["unauthorized", "Missing or invalid credentials"],
  403: ["forbidden", "Not allowed"],
  404: ["not-found", "Not found"],
  409: ["conflict", "Conflict"],
  415: ["unsupported-media-type", "Unsupported media type"],
  500: ["internal", "Internal error"],
  503: ["unavailable", "Temporarily unavailable"],
} as const satisfies Record<number, readonly [string, string]>;

export function problemBody(status: ContentfulStatusCode, fields: Partial<Problem> = {}): Problem {
  const [slug, title] = PROBLEM_TYPES[status as keyof typeof PROBLEM_TYPES] ?? ["error", "Error"];
  return { type: `urn:redis-ferry:problem:${slug}`, title, status, ...fields };
}

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  fields: Partial<Problem> = {},
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify(problemBody(status, fields)), status, {
    "content-type": "application/problem+json",
    ...headers,
  });
}

/** Zod issues → field errors; `where` prefixes fields outside the JSON body (query, path, header). */
export function fieldErrors(error: ZodError, where: string): FieldError[] {
  const prefix = where === "json" ? "" : `${where === "param" ? "path" : where}.`;
  return error.issues.map((issue) => ({
    path: `${prefix}${issue.path.map(String).join(".")}` || "(body)",
    message: issue.message,
  }));
}

/** Maps any thrown error to a problem response; unexpected errors say nothing of their internals. */
export function errorToProblem(c: Context, err: unknown): Response {
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return problem(c, status, { detail: err.message || "request rejected" });
  }
  const fields = (e: FerryError) =>
    e.advice === undefined ? { detail: e.message } : { detail: e.message, advice: e.advice };
  if (err instanceof JobNotFoundError) return problem(c, 404, fields(err));
  if (err instanceof ConflictError) return problem(c, 409, fields(err));
  if (err instanceof BadInputError) return problem(c, 400, fields(err));
  if (err instanceof RetryableError) return problem(c, 503, fields(err), { "retry-after": "5" });
  if (err instanceof FatalError) return problem(c, 500, fields(err));
  return problem(c, 500, { detail: "unexpected error; see the server log" });
}

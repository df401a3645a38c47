/**
 * fetch() against the job API with the bearer key, turning problem+json answers into ApiError so
 * every page can show the server's `detail`, `advice` and per-field `errors` the same way.
 */
import type { FieldError, Problem } from "../../../core/api/problem.ts";

export type { FieldError, Problem };

export class ApiError extends Error {
  constructor(
    /** 0: the server could not be reached. */
    readonly status: number,
    readonly problem: Problem | null,
    message: string,
  ) {
    super(message);
  }
  get advice(): string | undefined {
    return this.problem?.advice;
  }
  get fieldErrors(): FieldError[] {
    return this.problem?.errors ?? [];
  }
}

/** What the console says for the answers that mean "your key": the server's advice follows it. */
export function authMessage(err: ApiError): string {
  if (err.status === 401)
    return "The server rejected this API key (401). Check that you pasted the whole key printed by `ferry serve`.";
  if (err.status === 403)
    return "This API key is read-only (403): it can watch jobs but not change them. Log in with an admin key.";
  return err.message;
}

export type UnauthorizedHandler = (err: ApiError) => void;

export class Api {
  constructor(
    private readonly key: string,
    private readonly onUnauthorized: UnauthorizedHandler = () => {},
  ) {}

  get authorization(): string {
    return `Bearer ${this.key}`;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers: {
          authorization: this.authorization,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new ApiError(0, null, "Cannot reach the ferry server. Is `ferry serve` still running?");
    }
    if (res.ok) return (await res.json()) as T;
    const err = await toApiError(res);
    if (res.status === 401) this.onUnauthorized(err);
    throw err;
  }
}

export async function toApiError(res: Response): Promise<ApiError> {
  let problem: Problem | null = null;
  try {
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("json")) problem = (await res.json()) as Problem;
  } catch {
    problem = null;
  }
  const message = problem?.detail ?? problem?.title ?? `${res.status} ${res.statusText}`;
  return new ApiError(res.status, problem, message);
}

/**
 * `ferry jobs list|get|create|pause|resume|stop|cutover|delete`: a thin client of the job API
 * (`ferry serve` or the Lambda URL). Prints a table on a terminal, JSON with --json or when piped.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { BadInputError, ConflictError, FatalError, RetryableError } from "../../core/errors.ts";
import type { JobView } from "../../core/jobs/view.ts";

interface ClientOptions {
  api: string;
  apiKey?: string;
  json?: boolean;
}

interface ProblemLike {
  title?: string;
  detail?: string;
  advice?: string;
  errors?: Array<{ path: string; message: string }>;
}

export async function callApi(
  opts: ClientOptions,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const key = opts.apiKey ?? process.env["FERRY_API_KEY"];
  const url = new URL(path, opts.api.endsWith("/") ? opts.api : `${opts.api}/`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new RetryableError(
      `cannot reach the ferry API at ${url.origin}: ${(err as Error).message}`,
      "is `ferry serve` running? check --api",
    );
  }
  const text = await res.text();
  const parsed: unknown = text === "" ? null : JSON.parse(text);
  if (res.status >= 400) throw problemError(res.status, parsed as ProblemLike | null);
  return { status: res.status, body: parsed };
}

function problemError(status: number, problem: ProblemLike | null): Error {
  const fields = problem?.errors?.map((e) => `${e.path}: ${e.message}`).join("; ");
  const message = [problem?.detail ?? problem?.title ?? `HTTP ${status}`, fields].filter(Boolean).join(" — ");
  const advice =
    status === 401
      ? "pass --api-key or set FERRY_API_KEY (ferry serve printed a key on first start)"
      : problem?.advice;
  if (status === 400) return new BadInputError(message, advice);
  if (status === 409) return new ConflictError(message, advice);
  if (status === 503) return new RetryableError(message, advice);
  return new FatalError(message, advice);
}

function print(opts: ClientOptions, value: unknown): void {
  if (opts.json || !process.stdout.isTTY) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const v = value as { jobs?: JobView[]; job?: JobView; progress?: unknown };
  const jobs = v.jobs ?? (v.job ? [v.job] : v.progress ? [value as JobView] : null);
  process.stdout.write(jobs ? `${formatJobTable(jobs)}\n` : `${JSON.stringify(value, null, 2)}\n`);
}

/** One row per job and one indented row per shard. */
export function formatJobTable(jobs: JobView[]): string {
  const rows = [["ID", "NAME", "STATE", "KEYS", "LAG", "UPDATED"]];
  for (const job of jobs) {
    const lag = job.progress.shards.reduce((sum, s) => sum + s.lagBytes, 0);
    rows.push([job.id, job.name ?? "", job.state, String(job.progress.keysDone), `${lag}B`, job.updatedAt]);
    for (const s of job.progress.shards) {
      rows.push([
        `  ${s.shard}`,
        s.address,
        s.phase,
        String(s.keysDone),
        `${s.lagBytes}B`,
        `applied ${s.appliedOffset}`,
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function register(program: Command): void {
  const jobs = program
    .command("jobs")
    .summary("control jobs of a ferry API (ferry serve or AWS) from the shell")
    .description("Control jobs of a ferry API (ferry serve, or the AWS deployment)")
    .option("--api <url>", "API base URL", process.env["FERRY_API"] ?? "http://127.0.0.1:7070")
    .option("--api-key <key>", "API key (default: FERRY_API_KEY)")
    .option("--json", "print JSON even on a terminal");
  const opts = (): ClientOptions => jobs.opts<ClientOptions>();

  jobs
    .command("list")
    .description("List jobs")
    .option("--state <state>", "only jobs in this state")
    .option("--label <key=value>", "only jobs with this label")
    .option("--limit <n>", "page size", "50")
    .action(async (o: { state?: string; label?: string; limit: string }) => {
      const all: JobView[] = [];
      let cursor: string | undefined;
      do {
        const q = new URLSearchParams({ limit: o.limit });
        if (o.state) q.set("state", o.state);
        if (o.label) q.set("label", o.label);
        if (cursor) q.set("cursor", cursor);
        const page = (await callApi(opts(), "GET", `v1/jobs?${q}`)).body as {
          jobs: JobView[];
          cursor?: string;
        };
        all.push(...page.jobs);
        cursor = page.cursor;
      } while (cursor);
      print(opts(), { jobs: all });
    });

  jobs
    .command("get <id>")
    .description("Show a job with its per-shard progress")
    .action(async (id: string) => print(opts(), (await callApi(opts(), "GET", `v1/jobs/${id}`)).body));

  jobs
    .command("create")
    .description("Create and start a job from a JSON spec (file, or - for stdin)")
    .requiredOption("--spec <file>", "JSON job spec: { source, target, mode, dbMap, labels, … }")
    .option("--idempotency-key <key>", "repeat-safe: the same key and spec return the same job")
    .action(async (o: { spec: string; idempotencyKey?: string }) => {
      const text = readFileSync(o.spec === "-" ? 0 : o.spec, "utf8");
      let spec: unknown;
      try {
        spec = JSON.parse(text);
      } catch {
        throw new BadInputError(`${o.spec} is not valid JSON`, "see docs/api.md for the job spec");
      }
      const headers = o.idempotencyKey ? { "idempotency-key": o.idempotencyKey } : {};
      print(opts(), (await callApi(opts(), "POST", "v1/jobs", spec, headers)).body);
    });

  for (const action of ["pause", "resume", "stop"] as const) {
    jobs
      .command(`${action} <id>`)
      .description(`${action[0]!.toUpperCase()}${action.slice(1)} a job`)
      .action(async (id: string) =>
        print(opts(), (await callApi(opts(), "POST", `v1/jobs/${id}:${action}`)).body),
      );
  }

  jobs
    .command("cutover <id>")
    .description("After writes to the source stopped: wait for lag 0, then complete the job")
    .option("--wait <seconds>", "how long to wait for lag 0", "300")
    .action(async (id: string, o: { wait: string }) => {
      const { status, body } = await callApi(opts(), "POST", `v1/jobs/${id}:cutover?wait=${Number(o.wait)}`);
      print(opts(), body);
      if (status === 202) {
        throw new RetryableError(
          "lag did not reach 0 in time; the job is still draining",
          "run the cutover again",
        );
      }
    });

  jobs
    .command("delete <id>")
    .description("Delete a finished or paused job and its markers on the target")
    .action(async (id: string) => print(opts(), (await callApi(opts(), "DELETE", `v1/jobs/${id}`)).body));
}

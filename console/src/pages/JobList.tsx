/**
 * The job list. Refreshed every 5 s while the tab is visible — one request per refresh, not one
 * stream per job — and paused in background tabs.
 */
import { useEffect, useState } from "preact/hooks";
import type { Api } from "../lib/api.ts";
import { ApiError } from "../lib/api.ts";
import { age, bytes, count, seconds } from "../lib/format.ts";
import { endpointLabel, type JobView, STATES, totals } from "../lib/job.ts";

const REFRESH_MS = 5000;

export function JobList(props: { api: Api }) {
  const [state, setState] = useState("");
  const [label, setLabel] = useState("");
  const [applied, setApplied] = useState({ state: "", label: "" });
  const [jobs, setJobs] = useState<JobView[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      if (document.visibilityState === "visible") {
        const q = new URLSearchParams({ limit: "200" });
        if (applied.state) q.set("state", applied.state);
        if (applied.label) q.set("label", applied.label);
        try {
          const page = await props.api.request<{ jobs: JobView[] }>("GET", `/v1/jobs?${q}`);
          if (cancelled) return;
          setJobs(page.jobs);
          setError(null);
        } catch (err) {
          if (cancelled) return;
          const e = err as ApiError;
          const field = e instanceof ApiError ? e.fieldErrors[0] : undefined;
          setError(field ? `${field.path}: ${field.message}` : e.message);
        }
      }
      if (!cancelled) timer = setTimeout(load, REFRESH_MS);
    };
    void load();
    const onVisible = () => {
      if (document.visibilityState === "visible") {
        clearTimeout(timer);
        void load();
      }
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      cancelled = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [applied, props.api]);

  return (
    <main>
      <div class="title-row">
        <h1>Migrations</h1>
        <a class="button primary" href="#/new">
          New migration
        </a>
      </div>
      <form
        class="filters"
        aria-label="Filter migrations"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ state, label: label.trim() });
        }}
      >
        <label>
          State{" "}
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Label{" "}
          <input
            value={label}
            placeholder="team=payments"
            onInput={(e) => setLabel(e.currentTarget.value)}
            size={18}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {jobs === null ? (
        <p aria-busy="true">Loading…</p>
      ) : jobs.length === 0 ? (
        <p class="empty">
          No migrations{applied.state || applied.label ? " match this filter" : " yet"}.{" "}
          <a href="#/new">Start one</a>.
        </p>
      ) : (
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">State</th>
              <th scope="col">Source → target</th>
              <th scope="col">Progress</th>
              <th scope="col" class="num">
                Lag
              </th>
              <th scope="col" class="num">
                Ops/s
              </th>
              <th scope="col" class="num">
                Age
              </th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => {
              const t = totals(job.progress.shards, job.progress.keysDone);
              return (
                <tr key={job.id} data-testid="job-row">
                  <td>
                    <a href={`#/jobs/${job.id}`}>{job.name ?? job.id}</a>
                    {Object.entries(job.labels).map(([k, v]) => (
                      <span class="label" key={k}>
                        {k}={v}
                      </span>
                    ))}
                  </td>
                  <td>
                    <span class={`state ${job.state}`}>{job.state}</span>
                  </td>
                  <td class="endpoints">
                    {endpointLabel(job.spec.source)} → {endpointLabel(job.spec.target)}
                  </td>
                  <td>
                    {count(t.keysDone)} keys, {bytes(job.progress.bytesDone)}
                  </td>
                  <td class="num">
                    {bytes(t.lagBytes)} / {seconds(t.lagSeconds)}
                  </td>
                  <td class="num">{count(t.opsPerSecond)}</td>
                  <td class="num">{age(job.createdAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </main>
  );
}

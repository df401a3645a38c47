/**
 * One job, live: the SSE stream (snapshot, then state and progress events) drives everything on the
 * page — progress, charts, shard rows, event log, and which action buttons are offered.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { JobEvent, RunnerStatus } from "../../../core/jobs/runner.ts";
import { ConfirmDialog, type ConfirmRequest } from "../components/ConfirmDialog.tsx";
import { LineChart } from "../components/LineChart.tsx";
import { type Api, ApiError, authMessage } from "../lib/api.ts";
import { bytes, count, seconds, time } from "../lib/format.ts";
import { endpointLabel, type JobView, totals } from "../lib/job.ts";
import { addSample, type Sample, snapshotRate } from "../lib/series.ts";
import { type StreamState, watchSse } from "../lib/sse.ts";

type Action = JobView["actions"][number];

const CONFIRM = {
  pause: {
    title: "Pause this migration?",
    body: "Reading from the source stops with the offsets recorded; resume continues from there.",
    confirmLabel: "Pause",
  },
  resume: {
    title: "Resume this migration?",
    body: "It continues from the recorded offsets (a paused snapshot starts over).",
    confirmLabel: "Resume",
  },
  stop: {
    title: "Stop this migration?",
    body: "It ends where it stands without draining the remaining lag. It cannot be resumed.",
    confirmLabel: "Stop",
    danger: true,
  },
  cutover: {
    title: "Cut over now?",
    body: "Only after your application stopped writing to the source: ferry waits for lag 0 on every shard, then completes the job.",
    confirmLabel: "Cut over",
  },
  delete: {
    title: "Delete this job?",
    body: "Its exactly-once markers are removed from the target, then the job itself. The migrated data stays.",
    confirmLabel: "Delete",
    danger: true,
  },
} as const satisfies Record<Action, ConfirmRequest>;

export function JobPage(props: {
  api: Api;
  id: string;
  onDeleted: () => void;
  onAuthError: (e: ApiError) => void;
}) {
  const { api, id } = props;
  const [job, setJob] = useState<JobView | null>(null);
  const [series, setSeries] = useState<Sample[]>([]);
  const [stream, setStream] = useState<StreamState>({ kind: "connecting" });
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, setBusy] = useState<Action | null>(null);
  const [notice, setNotice] = useState<{
    message: string;
    advice?: string | undefined;
    level: "error" | "info";
  } | null>(null);

  const final = useRef(false);

  useEffect(() => {
    setJob(null);
    setSeries([]);
    final.current = false;
    const onJob = (view: JobView) => {
      final.current = view.state === "completed" || view.state === "failed";
      setJob(view);
      setSeries((s) => addSample(s, totals(view.progress.shards, view.progress.keysDone)));
    };
    return watchSse(
      `/v1/jobs/${encodeURIComponent(id)}/events`,
      {
        onEvent(type, data) {
          if (type === "snapshot" || type === "state") onJob(JSON.parse(data) as JobView);
          else if (type === "progress") {
            const status = JSON.parse(data) as RunnerStatus;
            setJob((j) => j && mergeProgress(j, status));
            setSeries((s) => addSample(s, totals(status.shards, status.keysDone)));
          }
        },
        finished: () => final.current,
        onState(state) {
          setStream(state);
          if (state.kind === "error" && state.error.status === 401) props.onAuthError(state.error);
        },
      },
      { authorization: api.authorization },
    );
  }, [id, api]);

  const t = useMemo(() => job && totals(job.progress.shards, job.progress.keysDone), [job]);

  const act = async (action: Action) => {
    setBusy(action);
    setNotice(null);
    try {
      if (action === "delete") {
        await api.request("DELETE", `/v1/jobs/${id}`);
        props.onDeleted();
        return;
      }
      const res = await api.request<{ job: JobView; synced?: boolean }>(
        "POST",
        `/v1/jobs/${id}:${action}${action === "cutover" ? "?wait=0" : ""}`,
      );
      setJob(res.job);
      final.current = res.job.state === "completed" || res.job.state === "failed";
      if (action === "cutover")
        setNotice({
          level: "info",
          message: res.synced
            ? "Cutover complete: the target is in sync."
            : "Cutover started: draining the remaining lag…",
        });
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, null, String(err));
      // authMessage already says what to do about a read-only key.
      setNotice(
        e.status === 403
          ? { level: "error", message: authMessage(e) }
          : { level: "error", message: e.message, advice: e.advice },
      );
    } finally {
      setBusy(null);
    }
  };

  if (!job) {
    return (
      <main>
        <p>
          <a href="#/">← Migrations</a>
        </p>
        {stream.kind === "error" ? (
          <p class="callout error" role="alert">
            {stream.error.status === 404 ? `No job ${id}: it may have been deleted.` : stream.error.message}
          </p>
        ) : (
          <p aria-busy="true">Loading {id}…</p>
        )}
      </main>
    );
  }
  const span = series.length > 1 ? (series[series.length - 1]!.t - series[0]!.t) / 1000 : 0;
  const snapshotPct = t?.snapshotTotal ? Math.min(100, (100 * t.snapshotDone) / t.snapshotTotal) : null;
  const rate = snapshotRate(series);
  const eta = t?.snapshotTotal && rate ? (t.snapshotTotal - t.snapshotDone) / rate : null;
  const inSnapshot = job.state === "snapshot" || job.progress.shards.some((s) => s.phase === "snapshot");

  return (
    <main>
      <p>
        <a href="#/">← Migrations</a>
      </p>
      <div class="title-row">
        <h1>
          {job.name ?? job.id}{" "}
          <span class={`state ${job.state}`} data-testid="job-state">
            {job.state}
          </span>
        </h1>
        <StreamBadge state={stream} />
      </div>
      <p class="endpoints">
        <code>{endpointLabel(job.spec.source)}</code> → <code>{endpointLabel(job.spec.target)}</code> ·{" "}
        {job.spec.mode} · <span class="muted">{job.id}</span>
      </p>
      <div class="buttons actions">
        {(["pause", "resume", "cutover", "stop", "delete"] as const).map((a) => (
          <button
            type="button"
            key={a}
            class={a === "stop" || a === "delete" ? "danger" : a === "cutover" ? "primary" : ""}
            disabled={!job.actions.includes(a) || busy !== null}
            title={job.actions.includes(a) ? undefined : `not possible while ${job.state}`}
            onClick={() => setPending(a)}
          >
            {busy === a ? `${CONFIRM[a].confirmLabel}…` : CONFIRM[a].confirmLabel}
          </button>
        ))}
      </div>
      {notice && !(notice.level === "info" && final.current) && (
        <div class={`callout ${notice.level}`} role={notice.level === "error" ? "alert" : "status"}>
          <strong>{notice.message}</strong>
          {notice.advice && <div>{notice.advice}</div>}
        </div>
      )}
      {job.lastError && (
        <div class="callout error" role="alert">
          <strong>{job.lastError.message}</strong>
          {job.lastError.advice && <div>What to do: {job.lastError.advice}</div>}
        </div>
      )}

      <section aria-labelledby="snap-title" class="panel">
        <h2 id="snap-title">Snapshot</h2>
        <div class="progress-row">
          <progress
            max={100}
            value={snapshotPct ?? (inSnapshot ? undefined : t && t.snapshotDone > 0 ? 100 : 0)}
            aria-label="snapshot bytes transferred"
            data-testid="snapshot-progress"
          />
          <span>
            {count(t?.keysDone ?? 0)} keys · {bytes(t?.snapshotDone ?? 0)}
            {t?.snapshotTotal
              ? ` of ${bytes(t.snapshotTotal)} (${snapshotPct!.toFixed(0)}%)`
              : inSnapshot
                ? " (size not known yet: diskless transfer)"
                : ""}
            {inSnapshot && eta !== null ? ` · ETA ${seconds(eta)}` : ""}
          </span>
        </div>
      </section>

      <section aria-label="Live charts" class="charts">
        <LineChart
          id="lag-chart"
          title="Replication lag"
          spanSeconds={span}
          series={[
            { label: "bytes", className: "c1", values: series.map((s) => s.lagBytes), format: bytes },
            { label: "seconds", className: "c2", values: series.map((s) => s.lagSeconds), format: seconds },
          ]}
        />
        <LineChart
          id="ops-chart"
          title="Throughput"
          spanSeconds={span}
          series={[
            { label: "ops/s", className: "c3", values: series.map((s) => s.opsPerSecond), format: count },
          ]}
        />
      </section>

      <section aria-labelledby="shards-title" class="panel">
        <h2 id="shards-title">Source shards</h2>
        {job.progress.shards.length === 0 ? (
          <p class="muted">No shard has reported yet.</p>
        ) : (
          <div class="scroll">
            <table class="shards">
              <thead>
                <tr>
                  <th scope="col">Shard</th>
                  <th scope="col">Phase</th>
                  <th scope="col" class="num">
                    Applied offset
                  </th>
                  <th scope="col" class="num">
                    Lag
                  </th>
                  <th scope="col" class="num">
                    Ops/s
                  </th>
                  <th scope="col" class="num">
                    Keys
                  </th>
                  <th scope="col" class="num">
                    Reconnects
                  </th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {job.progress.shards.map((s) => (
                  <tr key={s.shard} data-testid="shard-row">
                    <td>
                      {s.address}
                      <div class="muted small">{s.replid ? `${s.replid.slice(0, 12)}…` : s.shard}</div>
                    </td>
                    <td>
                      <span class={`state ${s.phase}`}>{s.phase}</span>
                    </td>
                    <td class="num">
                      {s.appliedOffset} / {s.sourceOffset}
                    </td>
                    <td class="num">
                      {bytes(s.lagBytes)} · {seconds(s.lagSeconds)}
                    </td>
                    <td class="num">{count(s.opsPerSecond)}</td>
                    <td class="num">{count(s.keysDone)}</td>
                    <td class="num">{s.reconnects}</td>
                    <td class="error-text">{s.lastError ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="events-title" class="panel">
        <h2 id="events-title">Events</h2>
        <EventLog events={job.events} />
      </section>
      <ConfirmDialog
        request={pending ? CONFIRM[pending] : null}
        onClose={(ok) => {
          const a = pending;
          setPending(null);
          if (ok && a) void act(a);
        }}
      />
    </main>
  );
}

function mergeProgress(job: JobView, status: RunnerStatus): JobView {
  const events = [...job.events, ...status.events.filter((e) => !job.events.some((x) => same(x, e)))].slice(
    -50,
  );
  return {
    ...job,
    progress: {
      shards: status.shards,
      keysDone: status.keysDone,
      bytesDone: status.bytesDone,
      at: status.at,
    },
    lastError: status.lastError ?? job.lastError,
    events,
  };
}

const same = (a: JobEvent, b: JobEvent) => a.at === b.at && a.message === b.message;

function EventLog(props: { events: readonly JobEvent[] }) {
  if (props.events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <ol class="events" reversed data-testid="event-log">
      {[...props.events].reverse().map((e, i) => (
        <li key={`${e.at}-${i}`} class={e.level}>
          <time dateTime={e.at}>{time(e.at)}</time> <span class={`badge ${e.level}`}>{e.level}</span>{" "}
          {e.message}
          {e.advice && <div class="advice">→ {e.advice}</div>}
        </li>
      ))}
    </ol>
  );
}

function StreamBadge(props: { state: StreamState }) {
  const s = props.state;
  const text =
    s.kind === "live"
      ? "Live"
      : s.kind === "connecting"
        ? "Connecting…"
        : s.kind === "retrying"
          ? `Connection lost (${s.reason}); reconnecting in ${s.inSeconds} s`
          : s.kind === "ended"
            ? "Stream ended"
            : s.error.status === 401 || s.error.status === 403
              ? authMessage(s.error)
              : s.error.message;
  return (
    <span class={`stream ${s.kind}`} role="status" aria-live="polite" data-testid="stream-state">
      {text}
    </span>
  );
}

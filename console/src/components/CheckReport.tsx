/** The `ferry check` report: one row per check and node, warnings with the exact setting to change. */
import type { CheckReport as Report } from "../../../core/check/types.ts";

const LABEL = { ok: "OK", warn: "Warning", fail: "Failure" } as const;

export function CheckReport(props: { report: Report }) {
  const { results, summary } = props.report;
  const shown = [...results].sort((a, b) => rank(b.status) - rank(a.status));
  return (
    <section class="check-report" aria-labelledby="check-title" data-testid="check-report">
      <h2 id="check-title">
        Preflight check: {summary.fail} failure(s), {summary.warn} warning(s), {summary.ok} OK
      </h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Result</th>
            <th scope="col">Check</th>
            <th scope="col">Node</th>
            <th scope="col">Finding and what to change</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r, i) => (
            <tr key={`${r.id}-${r.node ?? ""}-${i}`} class={`check ${r.status}`}>
              <td>
                <span class={`badge ${r.status}`}>{LABEL[r.status]}</span>
              </td>
              <td>
                <code>{r.id}</code>
              </td>
              <td>{r.node ?? "—"}</td>
              <td>
                {r.message}
                {r.advice && (
                  <div class="advice">
                    → <code>{r.advice}</code>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function rank(s: "ok" | "warn" | "fail"): number {
  return s === "fail" ? 2 : s === "warn" ? 1 : 0;
}

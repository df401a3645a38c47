/**
 * "New migration": validated in the browser with the API's schema; the server's problem+json field
 * errors land next to the same fields. "Run preflight check" shows the `ferry check` report first.
 */
import { useRef, useState } from "preact/hooks";
import type { CheckReport as Report } from "../../../core/check/types.ts";
import { JOB_MODES } from "../../../core/jobs/spec.ts";
import { CheckReport } from "../components/CheckReport.tsx";
import { described, Field } from "../components/Field.tsx";
import { type Api, ApiError, authMessage } from "../lib/api.ts";
import type { JobView } from "../lib/job.ts";
import {
  EMPTY_FORM,
  type FormErrors,
  fieldOf,
  formToSpec,
  SECRET_KIND_LABELS,
  SECRET_KINDS,
  type SecretKind,
  type SpecForm,
  validate,
} from "../lib/specForm.ts";

const MODE_HELP = {
  "full+incremental": "snapshot, then live changes until cutover",
  "full-only": "snapshot only",
  "incremental-only": "live changes only (target already seeded)",
} as const;

export function NewJob(props: { api: Api; onCreated: (job: JobView) => void }) {
  const [form, setForm] = useState<SpecForm>(EMPTY_FORM);
  const [errors, setErrors] = useState<FormErrors>({});
  const [formError, setFormError] = useState<{ message: string; advice?: string | undefined } | null>(null);
  const [busy, setBusy] = useState<"create" | "check" | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const set = <K extends keyof SpecForm>(key: K, value: SpecForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));
  const text = (key: keyof SpecForm, id: string = key, hint = false) => ({
    id,
    value: form[key] as string,
    onInput: (e: Event) => set(key, (e.currentTarget as HTMLInputElement).value as never),
    ...described(id, hint, errors[id]),
  });

  const showErrors = (next: FormErrors) => {
    setErrors(next);
    // Move focus to the first invalid field so keyboard and screen-reader users land on it.
    requestAnimationFrame(() => formRef.current?.querySelector<HTMLElement>("[aria-invalid=true]")?.focus());
  };

  const failed = (err: unknown) => {
    if (!(err instanceof ApiError)) return setFormError({ message: String(err) });
    if (err.fieldErrors.length > 0) {
      const next: FormErrors = {};
      for (const f of err.fieldErrors) next[fieldOf(f.path)] ??= f.message;
      showErrors(next);
    }
    const message = err.status === 401 || err.status === 403 ? authMessage(err) : err.message;
    setFormError({ message, advice: err.advice });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setFormError(null);
    const { body, errors: formErrors } = formToSpec(form);
    const all = { ...validate(body), ...formErrors };
    if (Object.keys(all).length > 0) return showErrors(all);
    setErrors({});
    setBusy("create");
    try {
      props.onCreated(await props.api.request<JobView>("POST", "/v1/jobs", body));
    } catch (err) {
      failed(err);
    } finally {
      setBusy(null);
    }
  };

  const check = async () => {
    setFormError(null);
    setReport(null);
    const next: FormErrors = {};
    for (const side of ["source", "target"] as const) {
      if (form[`${side}Kind`] !== "url" || !form[side].trim())
        next[side] =
          "the preflight check needs a redis:// URL here (secret references are read where the job runs)";
    }
    if (Object.keys(next).length > 0) return showErrors(next);
    setErrors({});
    setBusy("check");
    try {
      const body = formToSpec(form).body;
      setReport(
        await props.api.request<Report>("POST", "/v1/check", {
          source: body.source,
          target: body.target,
          ...(body.tls ? { tls: body.tls } : {}),
          ...(body.bigKeyThreshold === undefined ? {} : { bigKeyThreshold: body.bigKeyThreshold }),
          ...(body.psyncCommand === undefined ? {} : { psyncCommand: body.psyncCommand }),
        }),
      );
    } catch (err) {
      failed(err);
    } finally {
      setBusy(null);
    }
  };

  const endpointField = (side: "source" | "target") => {
    const kindKey = `${side}Kind` as const;
    const kind = form[kindKey];
    const title = side === "source" ? "Source" : "Target";
    return (
      <fieldset class="endpoint">
        <legend>{title}</legend>
        <div class="field">
          <label for={`${side}-kind`}>{title} given as</label>
          <select
            id={`${side}-kind`}
            value={kind}
            onChange={(e) => set(kindKey, e.currentTarget.value as SecretKind)}
          >
            {SECRET_KINDS.map((k) => (
              <option key={k} value={k}>
                {SECRET_KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </div>
        <Field
          id={side}
          label={kind === "url" ? `${title} URL` : `${title} secret (${SECRET_KIND_LABELS[kind]})`}
          hint={
            kind === "url"
              ? "redis://[user:password@]host:port — rediss:// for TLS. The password is stored but never shown."
              : "The secret holds the whole redis:// URL; it is read where the job runs."
          }
          error={errors[side]}
        >
          <input
            {...text(side, side, true)}
            autocomplete="off"
            spellcheck={false}
            placeholder={kind === "url" ? "redis://10.0.0.5:6379" : kind === "env" ? "FERRY_SOURCE_URL" : ""}
          />
        </Field>
      </fieldset>
    );
  };

  return (
    <main>
      <h1>New migration</h1>
      <form ref={formRef} class="spec" onSubmit={submit} noValidate aria-describedby="form-error">
        <Field id="name" label="Name (optional)" error={errors["name"]}>
          <input {...text("name")} placeholder="orders" />
        </Field>
        <div class="two">
          {endpointField("source")}
          {endpointField("target")}
        </div>
        <fieldset>
          <legend>What to copy</legend>
          <div class="two">
            <Field
              id="mode"
              label="Mode"
              error={errors["mode"]}
              hint={MODE_HELP[form.mode as keyof typeof MODE_HELP]}
            >
              <select
                id="mode"
                value={form.mode}
                onChange={(e) => set("mode", e.currentTarget.value)}
                {...described("mode", true, errors["mode"])}
              >
                {JOB_MODES.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </Field>
            <Field
              id="dbMap"
              label="Database mapping"
              hint="source=target, e.g. 0=0, 3=1 (empty: same numbers)"
              error={errors["dbMap"]}
            >
              <input {...text("dbMap", "dbMap", true)} placeholder="0=0, 3=1" />
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>Limits</legend>
          <div class="three">
            <Field
              id="bigKeyThreshold"
              label="Big-key threshold"
              hint="larger values are written in chunks, e.g. 16mb"
              error={errors["bigKeyThreshold"]}
            >
              <input {...text("bigKeyThreshold", "bigKeyThreshold", true)} placeholder="16mb" />
            </Field>
            <Field
              id="maxOps"
              label="Max commands/s"
              hint="applied to the target; empty: unlimited"
              error={errors["maxOps"]}
            >
              <input {...text("maxOps", "maxOps", true)} inputMode="numeric" placeholder="50000" />
            </Field>
            <Field
              id="maxBytes"
              label="Max bytes/s"
              hint="e.g. 100mb; empty: unlimited"
              error={errors["maxBytes"]}
            >
              <input {...text("maxBytes", "maxBytes", true)} placeholder="100mb" />
            </Field>
          </div>
        </fieldset>
        <details>
          <summary>TLS, PSYNC name and labels</summary>
          <div class="two">
            <Field
              id="tls.ca"
              label="CA certificate (PEM)"
              hint="for rediss:// servers with a private CA"
              error={errors["tls.ca"]}
            >
              <textarea {...text("tlsCa", "tls.ca", true)} rows={3} />
            </Field>
            <div>
              <div class={`field check${errors["tls.insecure"] ? " invalid" : ""}`}>
                <input
                  id="tls.insecure"
                  type="checkbox"
                  checked={form.tlsInsecure}
                  onChange={(e) => set("tlsInsecure", e.currentTarget.checked)}
                />
                <label for="tls.insecure">Skip TLS certificate verification (testing only)</label>
              </div>
              <Field
                id="psyncCommand"
                label="PSYNC command name"
                hint="managed services may rename it"
                error={errors["psyncCommand"]}
              >
                <input {...text("psyncCommand", "psyncCommand", true)} placeholder="PSYNC" />
              </Field>
            </div>
          </div>
          <Field
            id="labels"
            label="Labels"
            hint="key=value, comma separated, e.g. team=payments"
            error={errors["labels"]}
          >
            <input {...text("labels", "labels", true)} />
          </Field>
        </details>
        {errors["form"] && <p class="error">{errors["form"]}</p>}
        {formError && (
          <div id="form-error" class="callout error" role="alert" data-testid="form-error">
            <strong>{formError.message}</strong>
            {formError.advice && <div>{formError.advice}</div>}
          </div>
        )}
        <div class="buttons">
          <button type="button" onClick={check} disabled={busy !== null}>
            {busy === "check" ? "Checking… (a few seconds)" : "Run preflight check"}
          </button>
          <button type="submit" class="primary" disabled={busy !== null}>
            {busy === "create" ? "Starting…" : "Start migration"}
          </button>
        </div>
      </form>
      {report && <CheckReport report={report} />}
    </main>
  );
}

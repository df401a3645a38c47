/** Log in with an API key: checked against the server (GET /v1/jobs) before it is kept. */
import { useState } from "preact/hooks";
import { Api, ApiError, authMessage } from "../lib/api.ts";

export function Login(props: { notice: string | null; onLogin: (key: string) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const trimmed = key.trim();
    if (trimmed === "") {
      setError("Paste the API key that `ferry serve` printed at its first start.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await new Api(trimmed).request("GET", "/v1/jobs?limit=1");
      props.onLogin(trimmed);
    } catch (err) {
      setError(err instanceof ApiError ? authMessage(err) : String(err));
    } finally {
      setBusy(false);
    }
  };
  const shown = error ?? props.notice;
  return (
    <main class="login">
      <h1>redis-ferry</h1>
      <p>Live Redis migrations. Log in with an API key of this server.</p>
      <form onSubmit={submit} noValidate>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-describedby={shown ? "login-error" : "login-hint"}
          aria-invalid={error ? true : undefined}
        />
        <small id="login-hint" class="hint">
          Kept in this browser tab only (sessionStorage), never in the URL. A key file's <code>read</code>{" "}
          keys can watch but not change jobs.
        </small>
        {shown && (
          <p id="login-error" class="error" role="alert" data-testid="login-error">
            {shown}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Log in"}
        </button>
      </form>
    </main>
  );
}

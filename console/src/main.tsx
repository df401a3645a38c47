/**
 * The console's shell: login gate, hash routes (#/, #/new, #/jobs/<id>) — hash routes need no
 * server-side fallback, so the same static files work on `ferry serve` and behind a Lambda URL.
 */
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { Api, type ApiError, authMessage } from "./lib/api.ts";
import { clearKey, loadKey, saveKey } from "./lib/session.ts";
import { JobList } from "./pages/JobList.tsx";
import { JobPage } from "./pages/JobPage.tsx";
import { Login } from "./pages/Login.tsx";
import { NewJob } from "./pages/NewJob.tsx";
import "./style.css";

type Route = { page: "list" } | { page: "new" } | { page: "job"; id: string };

function parseRoute(hash: string): Route {
  const job = /^#\/jobs\/([^/?#]+)$/.exec(hash);
  if (job?.[1]) return { page: "job", id: decodeURIComponent(job[1]) };
  if (hash === "#/new") return { page: "new" };
  return { page: "list" };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  return route;
}

function focusHeading(): void {
  const h1 = document.querySelector<HTMLElement>("main h1");
  if (!h1) return;
  h1.tabIndex = -1;
  h1.focus({ preventScroll: true });
}

function App() {
  const [key, setKey] = useState<string | null>(loadKey);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();

  const logout = (message: string | null) => {
    clearKey();
    setKey(null);
    setNotice(message);
  };
  const onAuthError = (err: ApiError) => logout(`${authMessage(err)} Log in again.`);
  const api = useMemo(() => (key ? new Api(key, onAuthError) : null), [key]);

  useEffect(() => {
    const title = route.page === "job" ? route.id : route.page === "new" ? "New migration" : "Migrations";
    document.title = `${title} · redis-ferry`;
    // Move focus to the new page's heading, as a screen reader expects after navigation.
    requestAnimationFrame(() => focusHeading());
  }, [route]);

  if (!api) {
    return (
      <Login
        notice={notice}
        onLogin={(k) => {
          saveKey(k);
          setNotice(null);
          setKey(k);
        }}
      />
    );
  }
  return (
    <>
      <button type="button" class="skip" onClick={focusHeading}>
        Skip to content
      </button>
      <header class="top">
        <a href="#/" class="brand">
          redis-ferry
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.page === "list" ? "page" : undefined}>
            Migrations
          </a>
          <a href="#/new" aria-current={route.page === "new" ? "page" : undefined}>
            New migration
          </a>
          <a href="/docs">API docs</a>
        </nav>
        <button type="button" class="link" onClick={() => logout("Logged out.")}>
          Log out
        </button>
      </header>
      <div id="content">
        {route.page === "list" && <JobList api={api} />}
        {route.page === "new" && (
          <NewJob
            api={api}
            onCreated={(job) => {
              location.hash = `#/jobs/${job.id}`;
            }}
          />
        )}
        {route.page === "job" && (
          <JobPage
            api={api}
            id={route.id}
            onAuthError={onAuthError}
            onDeleted={() => {
              location.hash = "#/";
            }}
          />
        )}
      </div>
    </>
  );
}

render(<App />, document.getElementById("app")!);

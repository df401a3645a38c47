/**
 * GET /console/…: the web console, from the same Hono app as the API (same origin, so the browser
 * sends the bearer key to the API without CORS). The console is a static single-page app with hash
 * routes (#/jobs/…), so the server only maps file names; `/` redirects to it.
 */
import type { Hono } from "hono";
import type { ConsoleAssets } from "./consoleAssets.ts";
import { problem } from "./problem.ts";

/**
 * Everything the console loads is same-origin and external (no inline script or style), so the
 * policy can forbid inline code: an injected <script> in a job name could not run.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

const NOT_BUILT_HTML = `<!doctype html><html lang="en"><meta charset="utf-8"><title>redis-ferry console</title>
<body style="font:16px system-ui;margin:3rem"><h1>The web console is not built</h1>
<p>Run <code>npm run build</code> in the redis-ferry checkout (it writes console/dist), or set
<code>FERRY_CONSOLE_DIR</code> to a built console, then restart <code>ferry serve</code>.
The API itself works: see <a href="/docs">/docs</a>.</p></body></html>`;

// biome-ignore lint/suspicious/noExplicitAny: accepts any Hono app (OpenAPIHono included) regardless of its env
export function registerConsole(app: Hono<any, any, any>, assets: ConsoleAssets | null): void {
  app.get("/", (c) => c.redirect("/console/", 302));
  app.get("/console", (c) => c.redirect("/console/", 301));
  app.get("/console/*", (c) => {
    if (!assets) return c.html(NOT_BUILT_HTML, 503, SECURITY_HEADERS);
    const name = c.req.path.slice("/console/".length) || "index.html";
    const asset = assets.files.get(name);
    if (!asset) return problem(c, 404, { detail: `no console file ${name}` });
    const headers = {
      ...SECURITY_HEADERS,
      "content-type": asset.contentType,
      etag: asset.etag,
      // index.html names the current hashed bundle: always revalidate it; the bundle never changes.
      "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    };
    if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, headers);
  });
}

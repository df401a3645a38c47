/**
 * The built web console (console/dist, made by `npm run build`) read into memory once, so serving
 * it needs no file system access per request and works the same on `ferry serve` and on Lambda.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export interface ConsoleAsset {
  body: Uint8Array;
  contentType: string;
  etag: string;
  /** Vite puts a content hash in the name: such a file never changes, so it may be cached forever. */
  immutable: boolean;
}

export interface ConsoleAssets {
  /** Path below /console/, e.g. `index.html`, `app-3f2a1b.js`. */
  files: ReadonlyMap<string, ConsoleAsset>;
}

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
} as const satisfies Record<string, string>;

const HASHED_NAME = /-[A-Za-z0-9_-]{8,}\.[a-z]+$/;

/**
 * Where the console is looked for: FERRY_CONSOLE_DIR (a bundled Lambda sets it to the copied
 * assets), else console/dist of this package.
 */
export function defaultConsoleDir(env: Record<string, string | undefined> = process.env): string | null {
  if (env["FERRY_CONSOLE_DIR"]) return env["FERRY_CONSOLE_DIR"];
  try {
    return fileURLToPath(new URL("../../console/dist", import.meta.url));
  } catch {
    // Bundled to CommonJS (import.meta.url undefined): only FERRY_CONSOLE_DIR can say where it is.
    return null;
  }
}

let cached: { dir: string; mtimeMs: number; assets: ConsoleAssets } | null = null;

/** The assets in `dir`, or null when the console was not built (no index.html). */
export function loadConsoleAssets(dir: string | null = defaultConsoleDir()): ConsoleAssets | null {
  if (dir === null) return null;
  const index = join(dir, "index.html");
  if (!existsSync(index)) return null;
  // A rebuild rewrites index.html (new asset hashes); reread only then.
  const mtimeMs = statSync(index).mtimeMs;
  if (cached && cached.dir === dir && cached.mtimeMs === mtimeMs) return cached.assets;
  const files = new Map<string, ConsoleAsset>();
  for (const path of walk(dir)) {
    const body = readFileSync(path);
    const name = relative(dir, path).split(sep).join("/");
    const ext = extname(name) as keyof typeof CONTENT_TYPES;
    files.set(name, {
      body,
      contentType: CONTENT_TYPES[ext] ?? "application/octet-stream",
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
      immutable: name !== "index.html" && HASHED_NAME.test(name),
    });
  }
  const assets = { files };
  cached = { dir, mtimeMs, assets };
  return assets;
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

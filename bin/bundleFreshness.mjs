/**
 * Is the CLI bundle (dist/ferry.mjs, made by functions/cli/bundle.ts) at least as new as every
 * source it was built from? Plain JavaScript: bin/ferry.mjs asks this before any TypeScript loader
 * exists. A developer who edits a .ts file must never run the old bundle, so anything newer
 * (or any doubt) means "stale" and the launcher falls back to tsx.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * True when `bundle` exists and no .ts file (tests excepted, they are never bundled), no directory
 * under `roots` and none of `files` was modified after it. Directories count because deleting or
 * renaming a source changes only its directory's mtime. Stops at the first newer entry; the full
 * walk of core/ and functions/ costs a few ms (docs/cli-startup.md).
 */
export function isBundleFresh(bundle, roots, files = []) {
  let builtAt;
  try {
    builtAt = statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  const newer = (path) => {
    try {
      return statSync(path).mtimeMs > builtAt;
    } catch {
      return true;
    }
  };
  if (files.some(newer)) return false;
  const pending = [...roots];
  while (pending.length > 0) {
    const dir = pending.pop();
    if (newer(dir)) return false;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") pending.push(path);
      } else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && newer(path)) {
        return false;
      }
    }
  }
  return true;
}

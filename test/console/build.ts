/**
 * Builds the console for a test file into its own temp dir (vite, ~1 s) and points the server at it
 * with FERRY_CONSOLE_DIR: test files run in parallel forks, and two builds emptying the same
 * console/dist would pull the files from under each other's server. Works on a fresh clone.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const CONSOLE_CONFIG = fileURLToPath(new URL("../../console/vite.config.ts", import.meta.url));

/** Returns the output dir; createApp in this process serves it from then on. */
export async function buildConsole(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "ferry-console-dist-"));
  await build({ configFile: CONSOLE_CONFIG, logLevel: "error", build: { outDir, emptyOutDir: true } });
  process.env["FERRY_CONSOLE_DIR"] = outDir;
  return outDir;
}

/** Builds console/dist once per test file (vite, ~1 s), so `npm test` works on a fresh clone. */
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const CONSOLE_CONFIG = fileURLToPath(new URL("../../console/vite.config.ts", import.meta.url));
export const CONSOLE_DIST = fileURLToPath(new URL("../../console/dist", import.meta.url));

export async function buildConsole(): Promise<void> {
  await build({ configFile: CONSOLE_CONFIG, logLevel: "error" });
}

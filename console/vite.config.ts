/**
 * Builds the web console into console/dist (served by core/api/console.ts under /console/).
 * The job spec schema is imported from core/jobs/spec.ts so the form validates exactly as the API
 * does; its only Node import (node:crypto, for the server-side idempotency hash) is stubbed out.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  base: "/console/",
  logLevel: "warn",
  resolve: { alias: { "node:crypto": here("src/lib/cryptoStub.ts") } },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    target: "es2022",
    // One script, one stylesheet: fewer requests, and the server keeps them in memory.
    rollupOptions: { output: { entryFileNames: "app-[hash].js", assetFileNames: "app-[hash][extname]" } },
    reportCompressedSize: false,
  },
});

#!/usr/bin/env node
// The `ferry` executable. Two ways to run the same TypeScript sources:
// - dist/ferry.mjs, the bundle `npm ci` builds (prepare → functions/cli/bundle.ts): plain JS, starts
//   in ~0.2 s with ~47 MB RSS;
// - the tsx loader, ~1 s and ~80 MB more: its hooks run on a separate thread with their own V8
//   isolate in Node 20, and every .ts file is compiled at start-up (docs/cli-startup.md).
// The bundle is used only while it is newer than every source under core/ and functions/ and
// package.json, so a developer who edits a file runs the edit, never a stale build.
// FERRY_NO_BUNDLE=1 forces tsx.
import { fileURLToPath } from "node:url";
import { isBundleFresh } from "./bundleFreshness.mjs";

const root = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const bundle = root("dist/ferry.mjs");

if (
  process.env.FERRY_NO_BUNDLE !== "1" &&
  isBundleFresh(bundle, [root("core"), root("functions")], [root("package.json")])
) {
  // FERRY_DEBUG=1 prints stack traces: map them back to the .ts sources (off otherwise, it slows loading).
  if (process.env.FERRY_DEBUG === "1") process.setSourceMapsEnabled(true);
  await import(new URL("../dist/ferry.mjs", import.meta.url).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../functions/cli.ts");
}

/** Types of bundleFreshness.mjs (plain JS so bin/ferry.mjs can use it before any TS loader). */
export declare function isBundleFresh(
  bundle: string,
  roots: readonly string[],
  files?: readonly string[],
): boolean;

/**
 * Builds the `ferry` CLI into plain JavaScript (dist/ferry.mjs + lazily loaded chunks) so that
 * bin/ferry.mjs can start it without the tsx loader. Run by `npm run build:cli` and by `prepare`
 * (so `npm ci` leaves a ready bundle).
 *
 * Why a bundle: under tsx every start pays for the loader hooks (in Node 20 they run on a separate
 * thread with its own isolate, ~30 MB RSS) and for compiling each .ts file; the fixed cost ate into
 * the 256 MiB RSS budget of the benchmarks (issue #10). Numbers: docs/cli-startup.md.
 */
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

export interface BundleOptions {
  /** Repository root (holds package.json, functions/cli.ts). */
  root: string;
  /** Output directory; dist/ under the root by default. Its previous ferry.mjs and chunks are replaced. */
  outdir?: string;
}

export interface BundleResult {
  /** The entry point to run: `<outdir>/ferry.mjs`. */
  entry: string;
  /** Every file written, entry included. */
  files: string[];
}

export const ENTRY_NAME = "ferry.mjs";
const CHUNK_DIR = "chunks";

/**
 * Sources that locate files next to themselves (version.ts reads ../../package.json,
 * core/api/consoleAssets.ts finds ../../console/dist) do it through `import.meta.url`, which in a
 * bundle is the URL of the chunk in dist/. Each source's `import.meta.url` becomes the URL of that
 * source file, expressed relative to the chunk, so the bundle keeps working after the checkout is
 * moved. `import.meta.dirname`/`filename` would need the same; they are refused rather than left
 * silently wrong.
 */
function sourceLocationPlugin(root: string, outdir: string): Plugin {
  return {
    name: "ferry-source-location",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(root + sep) || args.path.includes(`${sep}node_modules${sep}`)) return null;
        const text = readFileSync(args.path, "utf8");
        if (/import\.meta\.(dirname|filename)\b/.test(text)) {
          return {
            errors: [
              {
                text: `${relative(root, args.path)} uses import.meta.dirname/filename: use new URL(…, import.meta.url), which the CLI bundle rewrites`,
              },
            ],
          };
        }
        // Every chunk sits directly in outdir or in outdir/chunks; a chunk's own URL is the base.
        const fromChunk = (chunkDir: string) => relative(chunkDir, args.path).split(sep).join("/");
        const inEntry = JSON.stringify(fromChunk(outdir));
        const inChunk = JSON.stringify(fromChunk(join(outdir, CHUNK_DIR)));
        const here = `new URL(import.meta.url.includes("/${CHUNK_DIR}/") ? ${inChunk} : ${inEntry}, import.meta.url).href`;
        return { contents: text.replaceAll("import.meta.url", `(${here})`), loader: "ts" };
      });
    },
  };
}

export async function bundleCli(opts: BundleOptions): Promise<BundleResult> {
  const root = resolve(opts.root);
  const outdir = resolve(opts.outdir ?? join(root, "dist"));
  // The entry's mtime is set to the moment the build *started*: a source saved while esbuild ran is
  // newer than the bundle, so bin/ferry.mjs treats the bundle as stale instead of running old code.
  const startedAt = new Date();
  mkdirSync(outdir, { recursive: true });
  rmSync(join(outdir, CHUNK_DIR), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { ferry: join(root, "functions", "cli.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    chunkNames: `${CHUNK_DIR}/[name]-[hash]`,
    bundle: true,
    // Splitting keeps each `await import()` of a subcommand a separate file, loaded only when that
    // command runs; in a single file esbuild hoists the imports of external packages to the top.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // node_modules stay external: Node loads them as it does under tsx (the AWS SDK, pino's worker
    // files and ioredis resolve their own paths), and measured start-up was no better bundled.
    packages: "external",
    // Error classes and log fields use constructor names; esbuild would rename clashing ones.
    keepNames: true,
    legalComments: "none",
    // Maps cost nothing at run time unless enabled: bin/ferry.mjs turns them on for FERRY_DEBUG=1, so
    // the stack traces it prints point at the .ts sources.
    sourcemap: "linked",
    logLevel: "warning",
    metafile: true,
    plugins: [sourceLocationPlugin(root, outdir)],
  });
  const files = Object.keys(result.metafile.outputs).map((f) => resolve(root, f));
  const entry = join(outdir, ENTRY_NAME);
  utimesSync(entry, startedAt, startedAt);
  return { entry, files };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
  const outdir = process.argv[2];
  const t0 = Date.now();
  const { entry, files } = await bundleCli({ root, ...(outdir ? { outdir } : {}) });
  const code = files.filter((f) => f.endsWith(".mjs"));
  const bytes = code.reduce((sum, f) => sum + statSync(f).size, 0);
  process.stdout.write(
    `ferry CLI bundle: ${relative(process.cwd(), entry)} + ${code.length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB (source maps beside), ${Date.now() - t0} ms\n`,
  );
}

/**
 * Issue #10: the CLI bundle (functions/cli/bundle.ts) runs like the sources, loads each subcommand's
 * runtime only when that command runs, and bin/ferry.mjs never runs a bundle older than the sources.
 * The bundle is built into a temp dir; real repo files are never touched (their mtimes decide
 * which path other engineers' runs take).
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBundleFresh } from "../../bin/bundleFreshness.mjs";
import { bundleCli } from "../../functions/cli/bundle.ts";
import { type RedisProc, startRedis } from "../helpers/redis.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

let tmp: string;
let entry: string;

/** Resolve hooks that write every loaded module URL to FERRY_TRACE_FILE (hooks run off-thread). */
const TRACER_HOOKS = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.FERRY_TRACE_FILE, result.url + "\\n");
  return result;
}`;

function run(script: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the bundle and returns the packages (node_modules/<name>) it loaded. */
function loadedPackages(args: string[]): { code: number | null; packages: Set<string>; stderr: string } {
  const traceFile = join(tmp, `trace-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(traceFile, "");
  const result = spawnSync(process.execPath, ["--import", join(tmp, "tracer.mjs"), entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", FERRY_TRACE_FILE: traceFile },
    encoding: "utf8",
    timeout: 30_000,
  });
  const packages = new Set<string>();
  for (const url of readFileSync(traceFile, "utf8").split("\n")) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) packages.add(m[1]!);
  }
  return { code: result.status, packages, stderr: result.stderr };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "ferry-bundle-"));
  // Packages stay external in the bundle: they resolve from node_modules above it, as in dist/.
  symlinkSync(join(ROOT, "node_modules"), join(tmp, "node_modules"));
  ({ entry } = await bundleCli({ root: ROOT, outdir: join(tmp, "dist") }));
  writeFileSync(join(tmp, "tracerHooks.mjs"), TRACER_HOOKS);
  writeFileSync(
    join(tmp, "tracer.mjs"),
    `import { register } from "node:module";\nregister(${JSON.stringify(new URL(`file://${join(tmp, "tracerHooks.mjs")}`).href)});\n`,
  );
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("the bundle", () => {
  it("prints the package version and the help of every command", () => {
    const version = run(entry, ["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);

    const help = run(entry, ["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["sync", "check", "verify", "serve", "jobs"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    }
    const syncHelp = run(entry, ["sync", "--help"]);
    expect(syncHelp.code).toBe(0);
    for (const flag of [
      "--source-rdb",
      "--until-synced",
      "--filter-prefix",
      "--status-port",
      "--mode <mode>",
    ]) {
      expect(syncHelp.stdout).toContain(flag);
    }
  });

  it("reports bad input with exit code 2 like the sources do", () => {
    const bad = run(entry, ["verify", "--source", "redis://a", "--target", "redis://b", "--sample", "300%"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid --sample "300%"');
  });

  it("--help loads no runtime package: no redis client, logger, metrics, HTTP or AWS", () => {
    const help = loadedPackages(["sync", "--help"]);
    expect(help.code).toBe(0);
    expect([...help.packages].sort()).toEqual(["commander"]);
  });

  describe("a real sync", () => {
    let source: RedisProc;
    let target: RedisProc;
    beforeAll(async () => {
      [source, target] = await Promise.all([startRedis(), startRedis()]);
      const pipeline = source.client().pipeline();
      for (let i = 0; i < 500; i++) pipeline.set(`k:${i}`, `v${i}`);
      await pipeline.exec();
    });
    afterAll(async () => {
      await Promise.all([source?.stop(), target?.stop()]);
    });

    it("copies the data without loading the API server or the AWS SDK", async () => {
      const sync = loadedPackages([
        "sync",
        "--source",
        source.url,
        "--target",
        target.url,
        "--until-synced",
        "--cleanup",
        "--no-progress",
        "--log-level",
        "warn",
      ]);
      expect(sync.stderr).toBe("");
      expect(sync.code).toBe(0);
      expect(await target.client().dbsize()).toBe(500);
      expect(await target.client().get("k:499")).toBe("v499");
      expect(sync.packages).toContain("ioredis");
      const heavy = [...sync.packages].filter((p) => /^(@aws-sdk\/|@smithy\/|hono$|@hono\/)/.test(p));
      expect(heavy).toEqual([]);
    });
  });
});

describe("isBundleFresh", () => {
  let tree: string;
  let bundle: string;
  const past = new Date(Date.now() - 60_000);
  const future = new Date(Date.now() + 60_000);
  const reset = () => {
    for (const path of [
      join(tree, "core"),
      join(tree, "core", "a"),
      join(tree, "core", "a", "x.ts"),
      join(tree, "core", "a", "x.test.ts"),
      join(tree, "core", "notes.md"),
      join(tree, "functions"),
      join(tree, "functions", "y.ts"),
      join(tree, "package.json"),
    ]) {
      utimesSync(path, past, past);
    }
  };
  const fresh = () =>
    isBundleFresh(bundle, [join(tree, "core"), join(tree, "functions")], [join(tree, "package.json")]);

  beforeAll(() => {
    tree = join(tmp, "tree");
    mkdirSync(join(tree, "core", "a"), { recursive: true });
    mkdirSync(join(tree, "functions"), { recursive: true });
    mkdirSync(join(tree, "dist"), { recursive: true });
    for (const file of [
      "core/a/x.ts",
      "core/a/x.test.ts",
      "core/notes.md",
      "functions/y.ts",
      "package.json",
    ]) {
      writeFileSync(join(tree, file), "");
    }
    bundle = join(tree, "dist", "ferry.mjs");
  });

  it("is false without a bundle", () => {
    reset();
    expect(fresh()).toBe(false);
  });

  it("is true when the bundle is newer than every source, directory and package.json", () => {
    writeFileSync(bundle, "");
    reset();
    expect(fresh()).toBe(true);
  });

  it("is false when a source, a directory (file deleted or renamed) or package.json is newer", () => {
    for (const newer of ["core/a/x.ts", "functions/y.ts", "core/a", "core", "package.json"]) {
      reset();
      utimesSync(join(tree, newer), future, future);
      expect({ newer, fresh: fresh() }).toEqual({ newer, fresh: false });
    }
  });

  it("ignores files that are never bundled (tests, docs)", () => {
    for (const newer of ["core/a/x.test.ts", "core/notes.md"]) {
      reset();
      utimesSync(join(tree, newer), future, future);
      expect({ newer, fresh: fresh() }).toEqual({ newer, fresh: true });
    }
  });
});

describe("bin/ferry.mjs", () => {
  /**
   * A copy of the launcher in a temp tree whose "bundle" and "sources" only say who ran, so the
   * choice is observed without building or touching the repo.
   */
  let tree: string;
  const past = new Date(Date.now() - 60_000);
  const future = new Date(Date.now() + 60_000);

  beforeAll(() => {
    tree = join(tmp, "launcher");
    mkdirSync(join(tree, "dist"), { recursive: true });
    mkdirSync(join(tree, "core"), { recursive: true });
    mkdirSync(join(tree, "functions"), { recursive: true });
    cpSync(join(ROOT, "bin"), join(tree, "bin"), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
    writeFileSync(join(tree, "package.json"), '{ "type": "module" }\n');
    writeFileSync(join(tree, "core", "lib.ts"), 'export const via: string = "tsx";\n');
    const printer = (via: string) => `process.stdout.write([${via}, ...process.argv.slice(2)].join(" "));\n`;
    writeFileSync(
      join(tree, "functions", "cli.ts"),
      `import { via } from "../core/lib.ts";\n${printer("via")}`,
    );
    writeFileSync(join(tree, "dist", "ferry.mjs"), printer('"bundle"'));
    for (const path of ["core", "core/lib.ts", "functions", "functions/cli.ts", "package.json"]) {
      utimesSync(join(tree, path), past, past);
    }
  });

  it("runs the bundle while it is fresh, tsx once a source is newer, and tsx with FERRY_NO_BUNDLE=1", () => {
    const launcher = join(tree, "bin", "ferry.mjs");
    expect(run(launcher, ["sync", "--x"]).stdout).toBe("bundle sync --x");
    expect(run(launcher, ["sync"], { FERRY_NO_BUNDLE: "1" }).stdout).toBe("tsx sync");
    utimesSync(join(tree, "core", "lib.ts"), future, future);
    expect(run(launcher, ["--version"]).stdout).toBe("tsx --version");
  });
});

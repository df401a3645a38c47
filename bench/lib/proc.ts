/**
 * Child processes under measurement: `ferry` started the way a user starts it (node bin/ferry.mjs),
 * sampled from /proc — VmHWM is the kernel's own peak-RSS high-water mark, and io write_bytes counts
 * what the process caused to be written to a block device (the "nothing touches local disk" goal).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startRedis } from "../../test/helpers/redis.ts";

export const FERRY_BIN = fileURLToPath(new URL("../../bin/ferry.mjs", import.meta.url));

export interface ProcSample {
  peakRssBytes: number;
  writeBytes: number;
  /** user + system CPU time: unlike wall time, barely moved by other load on a shared machine. */
  cpuSeconds: number;
}

/** clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux build that matters). */
const USER_HZ = 100;

/** VmHWM and write_bytes of a live process (zeros once it is gone). */
export function readProc(pid: number): ProcSample {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const io = readFileSync(`/proc/${pid}/io`, "utf8");
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      peakRssBytes: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024,
      writeBytes: Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? 0),
      cpuSeconds: (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / USER_HZ,
    };
  } catch {
    return { peakRssBytes: 0, writeBytes: 0, cpuSeconds: 0 };
  }
}

export interface FerryRun {
  child: ChildProcess;
  /** Highest values seen so far (sampled every 100 ms and once more right before exit). */
  sample(): ProcSample;
  /** Resolves with the exit code; rejects never. */
  exited: Promise<number>;
  /** JSON log lines ferry printed (stdout), parsed. */
  logs: Array<Record<string, unknown>>;
  stderr(): string;
}

export function startFerry(args: string[], opts: { cpuProfDir?: string } = {}): FerryRun {
  const nodeArgs = opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  // FERRY_BENCH_NODE_ARGS: V8 flags for the ferry child only (e.g. heap limits while hunting RSS).
  nodeArgs.push(...(process.env["FERRY_BENCH_NODE_ARGS"] ?? "").split(" ").filter(Boolean));
  const child = spawn(process.execPath, [...nodeArgs, FERRY_BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const peak: ProcSample = { peakRssBytes: 0, writeBytes: 0, cpuSeconds: 0 };
  const take = (): void => {
    if (child.pid === undefined) return;
    const s = readProc(child.pid);
    peak.peakRssBytes = Math.max(peak.peakRssBytes, s.peakRssBytes);
    peak.writeBytes = Math.max(peak.writeBytes, s.writeBytes);
    peak.cpuSeconds = Math.max(peak.cpuSeconds, s.cpuSeconds);
  };
  const timer = setInterval(take, 100);
  const logs: Array<Record<string, unknown>> = [];
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    let nl = out.indexOf("\n");
    while (nl >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        err += `${line}\n`;
      }
      nl = out.indexOf("\n");
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
    if (err.length > 100_000) err = err.slice(-50_000);
  });
  const exited = new Promise<number>((resolve) => {
    child.on("exit", (code, signal) => {
      clearInterval(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  const sample = (): ProcSample => {
    take();
    return { ...peak };
  };
  return { child, sample, exited, logs, stderr: () => err };
}

export function ferrySyncArgs(source: string, target: string, extra: string[] = []): string[] {
  return [
    "sync",
    "--source",
    source,
    "--target",
    target,
    "--log-format",
    "json",
    "--log-level",
    "info",
    "--no-progress",
    ...extra,
  ];
}

/**
 * One throw-away `ferry sync --until-synced` from an empty source, run right after the bundle is
 * (re)built and before anything is measured. Reading a file whose atime is older than its mtime
 * makes ext4 (relatime) update the atime, which dirties the inode table's metadata block, and the
 * kernel charges that page to the reader's write_bytes. The first measured run after a rebuild
 * showed 16–28 KiB of "disk writes" that way, although strace of that very run shows ferry writing
 * to no file at all (sockets, pipes and eventfds only). This run reads the same files first.
 */
export async function warmUpFerry(): Promise<void> {
  const source = await startRedis();
  const target = await startRedis();
  try {
    const run = startFerry(ferrySyncArgs(source.url, target.url, ["--until-synced"]));
    const code = await run.exited;
    if (code !== 0) throw new Error(`warm-up ferry sync exited with ${code}:\n${run.stderr().slice(-2000)}`);
  } finally {
    await Promise.all([source.stop(), target.stop()]);
  }
}

/** Machine facts printed with every result: figures only compare on the same hardware. */
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { REDIS_SERVER } from "../../test/helpers/redis.ts";

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  platform: string;
  /** 1-minute load average when the run started: above `cores`, other work shared the CPUs. */
  loadAverage: number;
}

export function machineInfo(): MachineInfo {
  const version = execFileSync(REDIS_SERVER, ["--version"], { encoding: "utf8" });
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: /v=(\S+)/.exec(version)?.[1] ?? version.trim(),
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg()[0] ?? 0,
  };
}

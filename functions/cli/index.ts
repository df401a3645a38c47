import type { Command } from "commander";
import { register as registerCheck } from "./checkCommand.ts";
import { register as registerJobs } from "./jobs.ts";
import { register as registerServe } from "./serveCommand.ts";
import { register as registerSync } from "./syncCommand.ts";
import { register as registerVerify } from "./verifyCommand.ts";

/**
 * Every subcommand exports `register(program)`; add new ones here. These modules hold only the flags
 * and help text: each action imports its implementation when it runs, so a start-up (and `--help`)
 * never loads the runtime of the other commands (the API server alone is hono + zod + the job
 * service). `jobs` is a thin HTTP client, light enough to stay in one file.
 */
const registrations: Array<(program: Command) => void> = [
  registerSync,
  registerCheck,
  registerVerify,
  registerServe,
  registerJobs,
];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}

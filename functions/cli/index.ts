import type { Command } from "commander";
import { register as registerCheck } from "./check.ts";
import { register as registerJobs } from "./jobs.ts";
import { register as registerServe } from "./serve.ts";
import { register as registerSync } from "./sync.ts";
import { register as registerVerify } from "./verify.ts";

/** Every subcommand module exports `register(program)`; add new ones here. */
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

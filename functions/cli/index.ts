import type { Command } from "commander";
import { register as registerCheck } from "./check.ts";

/** Every subcommand module exports `register(program)`; add new ones here. */
const registrations: Array<(program: Command) => void> = [registerCheck];

export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}

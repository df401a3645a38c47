import type { Command } from "commander";
import { BadInputError, FerryError } from "../../core/errors.ts";

/**
 * Runs the program and turns errors into one clear line plus advice and an exit code:
 * 2 for bad input, 1 for everything else. Stack traces only with FERRY_DEBUG=1.
 */
export async function runCli(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

export function reportError(err: unknown): number {
  if (err instanceof FerryError) {
    process.stderr.write(`ferry: ${err.message}\n`);
    if (err.advice) process.stderr.write(`  → ${err.advice}\n`);
  } else if (err instanceof Error) {
    process.stderr.write(`ferry: ${err.message}\n`);
  } else {
    process.stderr.write(`ferry: ${String(err)}\n`);
  }
  if (process.env["FERRY_DEBUG"] === "1" && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return err instanceof BadInputError ? 2 : 1;
}

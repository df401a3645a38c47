/**
 * Composition root of the `ferry` command line. Each subcommand lives in functions/cli/<name>.ts and
 * registers itself through functions/cli/index.ts; this file only builds the program and runs it.
 */
import { Command } from "commander";
import { registerCommands } from "./cli/index.ts";
import { runCli } from "./cli/run.ts";
import { version } from "./cli/version.ts";

const program = new Command("ferry")
  .description(
    "Migrate a live Redis/Valkey dataset to another Redis with no downtime. " +
      "ferry poses as a replica of every source master (PSYNC), streams the snapshot and then the live " +
      "write stream into the target, applies both exactly once, and resumes from its replication offset " +
      "after any crash, restart or network cut.",
  )
  .version(version, "-V, --version", "print the ferry version")
  .showHelpAfterError("(run `ferry <command> --help` for the options of a command)");

registerCommands(program);
await runCli(program, process.argv);

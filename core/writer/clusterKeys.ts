/**
 * Routing a command to a slot needs its key positions: core/commands (COMMAND INFO key specs).
 * A command the table does not know (a module command, a newer server) is routed by argv[1]; if
 * that is wrong, the target itself refuses the transaction (CROSSSLOT/MOVED inside MULTI), which
 * surfaces as a FatalError naming the command — never a silent write to the wrong slot.
 */
import { builtinCommandTable, type CommandTable, keyIndexes } from "../commands/index.ts";

export function commandName(argv: readonly Buffer[]): string {
  return (argv[0]?.toString("latin1") ?? "").toLowerCase();
}

/** The table's key indexes of argv: null when the table cannot tell (see routeBy). */
export function routingKeys(table: CommandTable = builtinCommandTable): (argv: Buffer[]) => number[] | null {
  return (argv) => keyIndexes(table, argv);
}

/** What to route by when the table cannot tell: argv[1], if any. */
export function routeBy(argv: readonly Buffer[], known: readonly number[] | null): readonly number[] {
  return known ?? (argv.length > 1 ? [1] : []);
}

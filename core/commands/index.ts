export { builtinCommandTable } from "./builtin.ts";
export { commandTableFromReply, loadCommandTable } from "./load.ts";
export type { BeginSearch, CommandSpec, CommandTable, FindKeys, KeySpec } from "./table.ts";
export { commandFlags, keyIndexes, lookupCommand } from "./table.ts";

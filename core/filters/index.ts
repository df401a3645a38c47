export { type FilterArgs, parseFilterArgs } from "./cli.ts";
export {
  compileFilter,
  type DropEvent,
  type DropReason,
  type Filter,
  type FilterCounters,
  type FilterOptions,
} from "./filter.ts";
export { compileGlob } from "./glob.ts";
export { DEFAULT_DROPPED_COMMANDS, type FilterSpec, FilterSpecSchema, VALUE_TYPES } from "./spec.ts";

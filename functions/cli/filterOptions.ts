/**
 * The filter flags shared by `ferry sync` (and anything else that reads the source): they map 1:1
 * onto core/filters' FilterArgs (parseFilterArgs), so CLI, config file and API accept the same
 * rules. Only the flag definitions live here: core/filters pulls zod, which `--help` must not load.
 */
import type { Command } from "commander";

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addFilterOptions(command: Command): Command {
  return command
    .option("--filter-prefix <prefix>", "copy only keys starting with this prefix (repeatable)", collect)
    .option("--exclude-prefix <prefix>", "skip keys starting with this prefix (repeatable)", collect)
    .option("--filter-glob <glob>", "copy only keys matching this Redis glob (repeatable)", collect)
    .option("--exclude-glob <glob>", "skip keys matching this Redis glob (repeatable)", collect)
    .option("--filter-regex <re>", "copy only keys matching this regular expression (repeatable)", collect)
    .option("--exclude-regex <re>", "skip keys matching this regular expression (repeatable)", collect)
    .option("--filter-db <dbs>", "copy only these source dbs, e.g. 0,3", collect)
    .option("--exclude-db <dbs>", "skip these source dbs", collect)
    .option(
      "--filter-type <types>",
      "copy only these types (string,list,set,zset,hash,stream,module)",
      collect,
    )
    .option("--exclude-type <types>", "skip these types", collect)
    .option(
      "--db-map <pairs>",
      "source db → target db, e.g. 0:0,3:1 (a cluster target only has db 0)",
      collect,
    )
    .option(
      "--rename-prefix <rule>",
      "rename keys by prefix on the target, e.g. 'old:=>new:' (repeatable)",
      collect,
    )
    .option("--drop-command <names>", "drop these commands from the live stream, e.g. PUBLISH", collect)
    .option("--keep-flush", "apply FLUSHALL/FLUSHDB from the source (dropped by default, with a log line)");
}

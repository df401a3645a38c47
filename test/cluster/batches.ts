/** Builds stream batches for cluster writer tests: each command gets the next offset (+10). */
import type { Batch, Command } from "../../core/model.ts";

export type Argv = Array<string | Buffer>;

export class BatchMaker {
  private offset: number;
  constructor(
    readonly job: string,
    readonly shard: string,
    readonly replid = "a".repeat(40),
    start = 1000,
  ) {
    this.offset = start;
  }

  next(argvs: Argv[], db = 0): Batch {
    const commands: Command[] = argvs.map((argv) => {
      this.offset += 10;
      return { argv: argv.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a))), db, offset: this.offset };
    });
    return {
      job: this.job,
      shard: this.shard,
      replid: this.replid,
      kind: "stream",
      first: commands[0]?.offset ?? this.offset,
      last: this.offset,
      commands,
      bytes: 0,
    };
  }
}

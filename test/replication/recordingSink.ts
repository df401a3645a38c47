/** A ReplicaSink that records what a session delivers, optionally slow (to exercise backpressure). */

import type { Command } from "../../core/model.ts";
import type { ContinueInfo, FullResyncInfo, ReplicaSink } from "../../core/replication/types.ts";
import { sleep } from "../helpers/redis.ts";

export class RecordingSink implements ReplicaSink {
  full: FullResyncInfo | undefined;
  cont: ContinueInfo | undefined;
  rdb: Buffer[] = [];
  rdbDone = false;
  commandList: Command[] = [];
  batches: Array<{ count: number; endOffset: number; db: number }> = [];
  /** Delay per commands() call, in ms. */
  delayMs = 0;

  fullResync(info: FullResyncInfo): void {
    this.full = info;
  }
  rdbChunk(chunk: Buffer): void {
    this.rdb.push(Buffer.from(chunk));
  }
  rdbEnd(): void {
    this.rdbDone = true;
  }
  continued(info: ContinueInfo): void {
    this.cont = info;
  }
  async commands(commands: Command[], endOffset: number, db: number): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    this.commandList.push(...commands);
    this.batches.push({ count: commands.length, endOffset, db });
  }

  get rdbBytes(): Buffer {
    return Buffer.concat(this.rdb);
  }

  /** Commands as readable strings: "db:SET k v". */
  get seen(): string[] {
    return this.commandList.map((c) => `${c.db}:${c.argv.map((a) => a.toString()).join(" ")}`);
  }
}

import { join } from "node:path";
import type { AppliedOffset, OffsetStore } from "../../ports.ts";
import { JsonFile } from "./jsonFile.ts";

type Doc = Record<string, Record<string, AppliedOffset>>;

/** Forward-only offsets in `<dir>/offsets.json`: lets `ferry sync`/`ferry serve` resume after a restart. */
export class FileOffsetStore implements OffsetStore {
  private readonly file: JsonFile<Doc>;

  constructor(dir: string) {
    this.file = new JsonFile<Doc>(join(dir, "offsets.json"), () => ({}));
  }

  get(job: string, shard: string): Promise<AppliedOffset | null> {
    return this.file.transact((doc) => ({ result: doc[job]?.[shard] ?? null }));
  }

  advance(job: string, shard: string, value: AppliedOffset): Promise<boolean> {
    return this.file.transact((doc) => {
      const current = doc[job]?.[shard];
      if (current && current.offset >= value.offset) return { result: false };
      const shards = doc[job] ?? {};
      shards[shard] = { replid: value.replid, offset: value.offset, db: value.db };
      doc[job] = shards;
      return { result: true, write: doc };
    });
  }

  reset(job: string, shard: string): Promise<void> {
    return this.file.transact((doc) => {
      const shards = doc[job];
      if (!shards || !(shard in shards)) return { result: undefined };
      delete shards[shard];
      if (Object.keys(shards).length === 0) delete doc[job];
      return { result: undefined, write: doc };
    });
  }
}

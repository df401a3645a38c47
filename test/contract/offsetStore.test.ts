import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DynamoOffsetStore } from "../../core/adapters/dynamodb/offsetStore.ts";
import { FileOffsetStore } from "../../core/adapters/file/offsetStore.ts";
import { MemoryOffsetStore } from "../../core/adapters/memory/offsetStore.ts";
import { runOffsetStoreContract } from "./offsetStore.contract.ts";
import { useStoreFixtures } from "./stores.ts";

const stores = useStoreFixtures("ferry-offsets-");
const { dir } = stores;

runOffsetStoreContract("memory", () => new MemoryOffsetStore());
runOffsetStoreContract("file", () => new FileOffsetStore(stores.freshDir()));
runOffsetStoreContract("dynamodb (dynalite)", async () => {
  const tables = await stores.freshTables();
  return new DynamoOffsetStore({ client: stores.dynamo(), tableName: tables.offsets });
});

describe("FileOffsetStore persistence", () => {
  it("a new instance on the same directory resumes from the stored offset", async () => {
    const path = join(dir, "resume");
    await new FileOffsetStore(path).advance("job", "s1", { replid: "r", offset: 99, db: 2 });
    const reopened = new FileOffsetStore(path);
    expect(await reopened.get("job", "s1")).toEqual({ replid: "r", offset: 99, db: 2 });
    expect(await reopened.advance("job", "s1", { replid: "r", offset: 50, db: 0 })).toBe(false);
  });
});

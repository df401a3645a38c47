import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoOffsetStore } from "../../core/adapters/dynamodb/offsetStore.ts";
import { FileOffsetStore } from "../../core/adapters/file/offsetStore.ts";
import { MemoryOffsetStore } from "../../core/adapters/memory/offsetStore.ts";
import { createFerryTables, type Emulator, startDynamo } from "../helpers/emulators.ts";
import { runOffsetStoreContract } from "./offsetStore.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "ferry-offsets-"));
let dynamo: Emulator<DynamoDBClient>;
let storeSeq = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
  rmSync(dir, { recursive: true, force: true });
});

runOffsetStoreContract("memory", () => new MemoryOffsetStore());
runOffsetStoreContract("file", () => new FileOffsetStore(join(dir, `store-${++storeSeq}`)));
runOffsetStoreContract("dynamodb (dynalite)", async () => {
  const tables = await createFerryTables(dynamo.client);
  return new DynamoOffsetStore({ client: dynamo.client, tableName: tables.offsets });
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

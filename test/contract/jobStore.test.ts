import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoJobStore } from "../../core/adapters/dynamodb/jobStore.ts";
import { FileJobStore } from "../../core/adapters/file/jobStore.ts";
import { MemoryJobStore } from "../../core/adapters/memory/jobStore.ts";
import { FatalError } from "../../core/errors.ts";
import { createFerryTables, type Emulator, startDynamo } from "../helpers/emulators.ts";
import { job, runJobStoreContract } from "./jobStore.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "ferry-jobs-"));
let dynamo: Emulator<DynamoDBClient>;
let storeSeq = 0;

beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo?.stop();
  rmSync(dir, { recursive: true, force: true });
});

runJobStoreContract("memory", () => new MemoryJobStore());
runJobStoreContract("file", () => new FileJobStore(join(dir, `store-${++storeSeq}`)));
runJobStoreContract("dynamodb (dynalite)", async () => {
  const tables = await createFerryTables(dynamo.client);
  return new DynamoJobStore({ client: dynamo.client, tableName: tables.jobs });
});

describe("FileJobStore", () => {
  it("writes atomically (no temp files left) and survives a reopen", async () => {
    const path = join(dir, "atomic");
    const store = new FileJobStore(path);
    await store.create(job("a"));
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.create(job(`b${i}`))));
    expect(readdirSync(path)).toEqual(["jobs.json"]);
    expect((await new FileJobStore(path).list({ limit: 100 })).jobs).toHaveLength(11);
  });

  it("a corrupt state file is a FatalError naming the file", async () => {
    const path = join(dir, "corrupt");
    const store = new FileJobStore(path);
    await store.create(job("a"));
    writeFileSync(join(path, "jobs.json"), "{not json");
    await expect(store.get("a")).rejects.toBeInstanceOf(FatalError);
    await expect(store.get("a")).rejects.toThrow(/jobs\.json/);
  });
});

describe("DynamoJobStore", () => {
  it("sets the TTL attribute only once a job is finished", async () => {
    const tables = await createFerryTables(dynamo.client);
    const store = new DynamoJobStore({
      client: dynamo.client,
      tableName: tables.jobs,
      finishedTtlSeconds: 3600,
    });
    await store.create(job("ttl"));
    const read = async () =>
      (await dynamo.client.send(new GetItemCommand({ TableName: tables.jobs, Key: { id: { S: "ttl" } } })))
        .Item;
    expect((await read())?.["expiresAt"]).toBeUndefined();
    await store.update(job("ttl", "completed"), 1);
    const expiresAt = Number((await read())?.["expiresAt"]?.N);
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(expiresAt).toBeLessThan(Date.now() / 1000 + 3700);
  });

  it("a missing table is a FatalError that says to deploy", async () => {
    const store = new DynamoJobStore({ client: dynamo.client, tableName: "no-such-table" });
    await expect(store.get("x")).rejects.toBeInstanceOf(FatalError);
    await expect(store.get("x")).rejects.toThrow(/table not found/);
  });
});

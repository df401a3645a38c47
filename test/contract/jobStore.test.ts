import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoJobStore } from "../../core/adapters/dynamodb/jobStore.ts";
import { FileJobStore } from "../../core/adapters/file/jobStore.ts";
import { MemoryJobStore } from "../../core/adapters/memory/jobStore.ts";
import { FatalError } from "../../core/errors.ts";
import { job, runJobStoreContract } from "./jobStore.contract.ts";
import { useStoreFixtures } from "./stores.ts";

const stores = useStoreFixtures("ferry-jobs-");
const { dir } = stores;

runJobStoreContract("memory", () => new MemoryJobStore());
runJobStoreContract("file", () => new FileJobStore(stores.freshDir()));
runJobStoreContract("dynamodb (dynalite)", async () => {
  const tables = await stores.freshTables();
  return new DynamoJobStore({ client: stores.dynamo(), tableName: tables.jobs });
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
    const tables = await stores.freshTables();
    const store = new DynamoJobStore({
      client: stores.dynamo(),
      tableName: tables.jobs,
      finishedTtlSeconds: 3600,
    });
    await store.create(job("ttl"));
    const read = async () =>
      (await stores.dynamo().send(new GetItemCommand({ TableName: tables.jobs, Key: { id: { S: "ttl" } } })))
        .Item;
    expect((await read())?.["expiresAt"]).toBeUndefined();
    await store.update(job("ttl", "completed"), 1);
    const expiresAt = Number((await read())?.["expiresAt"]?.N);
    expect(expiresAt).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(expiresAt).toBeLessThan(Date.now() / 1000 + 3700);
  });

  it("a missing table is a FatalError that says to deploy", async () => {
    const store = new DynamoJobStore({ client: stores.dynamo(), tableName: "no-such-table" });
    await expect(store.get("x")).rejects.toBeInstanceOf(FatalError);
    await expect(store.get("x")).rejects.toThrow(/table not found/);
  });
});

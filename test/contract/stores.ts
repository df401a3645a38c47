/**
 * What the store contract files share: a temp directory for the file adapters and one dynalite for
 * the DynamoDB adapters, both set up in beforeAll and removed in afterAll of the calling file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { createFerryTables, type Emulator, startDynamo } from "../helpers/emulators.ts";

export interface StoreFixtures {
  /** The temp directory (removed after the file's tests). */
  readonly dir: string;
  /** A fresh, not yet existing directory under `dir` for one file store. */
  freshDir(): string;
  /** The dynalite client (valid inside tests). */
  dynamo(): DynamoDBClient;
  /** Fresh jobs + offsets tables in dynalite. */
  freshTables(): Promise<{ offsets: string; jobs: string }>;
}

export function useStoreFixtures(prefix: string): StoreFixtures {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let emulator: Emulator<DynamoDBClient> | undefined;
  let seq = 0;
  beforeAll(async () => {
    emulator = await startDynamo();
  });
  afterAll(async () => {
    await emulator?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const dynamo = (): DynamoDBClient => {
    if (!emulator) throw new Error("dynalite is not started yet: call dynamo() inside a test");
    return emulator.client;
  };
  return {
    dir,
    freshDir: () => join(dir, `store-${++seq}`),
    dynamo,
    freshTables: () => createFerryTables(dynamo()),
  };
}

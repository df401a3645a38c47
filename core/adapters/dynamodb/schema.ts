/**
 * Table layouts shared by the adapters, the SST infra and the tests, so the three cannot drift.
 * Plain data: no SDK import, safe to load from sst.config.ts.
 */
export const OFFSETS_TABLE = {
  hashKey: "job",
  rangeKey: "shard",
} as const;

export const JOBS_TABLE = {
  hashKey: "id",
  /** Epoch seconds; set when a job reaches a final state so DynamoDB TTL removes it later. */
  ttlAttribute: "expiresAt",
} as const;

/** CreateTable inputs (tests, local emulators); infra declares the same keys with sst.aws.Dynamo. */
export function offsetsTableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: [
      { AttributeName: OFFSETS_TABLE.hashKey, AttributeType: "S" as const },
      { AttributeName: OFFSETS_TABLE.rangeKey, AttributeType: "S" as const },
    ],
    KeySchema: [
      { AttributeName: OFFSETS_TABLE.hashKey, KeyType: "HASH" as const },
      { AttributeName: OFFSETS_TABLE.rangeKey, KeyType: "RANGE" as const },
    ],
  };
}

export function jobsTableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: [{ AttributeName: JOBS_TABLE.hashKey, AttributeType: "S" as const }],
    KeySchema: [{ AttributeName: JOBS_TABLE.hashKey, KeyType: "HASH" as const }],
  };
}

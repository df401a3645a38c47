import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { AppliedOffset, OffsetStore } from "../../ports.ts";
import { isConditionalCheckFailed, toDomainError } from "./errors.ts";
import { OFFSETS_TABLE } from "./schema.ts";

export interface DynamoOffsetStoreOptions {
  client: DynamoDBClient;
  tableName: string;
}

/**
 * Applied offsets in DynamoDB, one item per (job, shard). `advance` is a single conditional
 * UpdateItem, so two writers racing (a Lambda retry and its original) can only move it forward.
 */
export class DynamoOffsetStore implements OffsetStore {
  constructor(private readonly options: DynamoOffsetStoreOptions) {}

  private key(job: string, shard: string) {
    return { [OFFSETS_TABLE.hashKey]: { S: job }, [OFFSETS_TABLE.rangeKey]: { S: shard } };
  }

  async get(job: string, shard: string): Promise<AppliedOffset | null> {
    try {
      const out = await this.options.client.send(
        new GetItemCommand({
          TableName: this.options.tableName,
          Key: this.key(job, shard),
          ConsistentRead: true,
        }),
      );
      const item = out.Item;
      if (!item?.["offset"]?.N || !item["replid"]?.S) return null;
      return { replid: item["replid"].S, offset: Number(item["offset"].N), db: Number(item["db"]?.N ?? 0) };
    } catch (err) {
      throw toDomainError(err, `reading offset of ${job}/${shard}`);
    }
  }

  async advance(job: string, shard: string, value: AppliedOffset): Promise<boolean> {
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: this.key(job, shard),
          UpdateExpression: "SET #replid = :replid, #offset = :offset, #db = :db, #updatedAt = :now",
          ConditionExpression: "attribute_not_exists(#offset) OR #offset < :offset",
          ExpressionAttributeNames: {
            "#replid": "replid",
            "#offset": "offset",
            "#db": "db",
            "#updatedAt": "updatedAt",
          },
          ExpressionAttributeValues: {
            ":replid": { S: value.replid },
            ":offset": { N: String(value.offset) },
            ":db": { N: String(value.db) },
            ":now": { S: new Date().toISOString() },
          },
        }),
      );
      return true;
    } catch (err) {
      // Someone already stored this offset or a later one: forward-only, so not an error.
      if (isConditionalCheckFailed(err)) return false;
      throw toDomainError(err, `advancing offset of ${job}/${shard}`);
    }
  }

  async reset(job: string, shard: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteItemCommand({ TableName: this.options.tableName, Key: this.key(job, shard) }),
      );
    } catch (err) {
      throw toDomainError(err, `resetting offset of ${job}/${shard}`);
    }
  }
}

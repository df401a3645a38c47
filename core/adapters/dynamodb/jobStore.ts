import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { BadInputError } from "../../errors.ts";
import type { JobListQuery, JobRecord, JobState, JobStore } from "../../ports.ts";
import { alreadyExists, versionConflict } from "../jobQuery.ts";
import { isConditionalCheckFailed, toDomainError } from "./errors.ts";
import { JOBS_TABLE } from "./schema.ts";

export interface DynamoJobStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Finished jobs (completed/failed) expire this long after their last update. Default 30 days. */
  finishedTtlSeconds?: number;
}

const FINAL_STATES: ReadonlySet<JobState> = new Set(["completed", "failed"]);

/**
 * Jobs in DynamoDB. `state`, `version` and `labels` are top-level attributes (conditions and list
 * filters use them); the full record is a JSON string, so spec/status shapes can evolve without a
 * migration. A record is far below the 400 KB item limit.
 */
export class DynamoJobStore<Spec = unknown, Status = unknown> implements JobStore<Spec, Status> {
  constructor(private readonly options: DynamoJobStoreOptions) {}

  private item(job: JobRecord<Spec, Status>): Record<string, AttributeValue> {
    const labels: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(job.labels)) labels[k] = { S: v };
    const item: Record<string, AttributeValue> = {
      [JOBS_TABLE.hashKey]: { S: job.id },
      state: { S: job.state },
      version: { N: String(job.version) },
      labels: { M: labels },
      record: { S: JSON.stringify(job) },
    };
    if (FINAL_STATES.has(job.state)) {
      const ttl = this.options.finishedTtlSeconds ?? 30 * 24 * 3600;
      item[JOBS_TABLE.ttlAttribute] = { N: String(Math.floor(Date.now() / 1000) + ttl) };
    }
    return item;
  }

  private parse(item: Record<string, AttributeValue> | undefined): JobRecord<Spec, Status> | null {
    const record = item?.["record"]?.S;
    return record === undefined ? null : (JSON.parse(record) as JobRecord<Spec, Status>);
  }

  async create(job: JobRecord<Spec, Status>): Promise<void> {
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: this.item(job),
          ConditionExpression: "attribute_not_exists(#id)",
          ExpressionAttributeNames: { "#id": JOBS_TABLE.hashKey },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw alreadyExists(job.id);
      throw toDomainError(err, `creating job ${job.id}`);
    }
  }

  async get(id: string): Promise<JobRecord<Spec, Status> | null> {
    try {
      const out = await this.options.client.send(
        new GetItemCommand({
          TableName: this.options.tableName,
          Key: { [JOBS_TABLE.hashKey]: { S: id } },
          ConsistentRead: true,
        }),
      );
      return this.parse(out.Item);
    } catch (err) {
      throw toDomainError(err, `reading job ${id}`);
    }
  }

  async update(next: JobRecord<Spec, Status>, expectedVersion: number): Promise<JobRecord<Spec, Status>> {
    const stored = { ...next, version: expectedVersion + 1 };
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: this.item(stored),
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":expected": { N: String(expectedVersion) } },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return stored;
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        // ALL_OLD on the exception saves a read on AWS; emulators (dynalite) omit it, so fall back.
        const old = (err as { Item?: Record<string, AttributeValue> }).Item;
        const actual = old ? Number(old["version"]?.N) : ((await this.get(next.id))?.version ?? null);
        throw versionConflict(next.id, expectedVersion, actual);
      }
      throw toDomainError(err, `updating job ${next.id}`);
    }
  }

  /**
   * Scan + filter (a job table holds few items; a GSI would cost a second write per update). Each
   * Scan asks only for what is still missing, so LastEvaluatedKey is exactly after the last job
   * returned and serves as the cursor.
   */
  async list(query: JobListQuery): Promise<{ jobs: JobRecord<Spec, Status>[]; cursor?: string }> {
    if (!Number.isInteger(query.limit) || query.limit < 1) {
      throw new BadInputError(`invalid list limit ${query.limit}`, "pass a limit of 1 or more");
    }
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    if (query.state !== undefined) {
      filters.push("#state = :state");
      names["#state"] = "state";
      values[":state"] = { S: query.state };
    }
    if (query.label !== undefined) {
      filters.push("#labels.#labelKey = :labelValue");
      names["#labels"] = "labels";
      names["#labelKey"] = query.label.key;
      values[":labelValue"] = { S: query.label.value };
    }
    let startKey = query.cursor === undefined ? undefined : decodeKey(query.cursor);
    const jobs: JobRecord<Spec, Status>[] = [];
    try {
      do {
        const out = await this.options.client.send(
          new ScanCommand({
            TableName: this.options.tableName,
            Limit: query.limit - jobs.length,
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            ...(filters.length > 0
              ? {
                  FilterExpression: filters.join(" AND "),
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: values,
                }
              : {}),
          }),
        );
        for (const item of out.Items ?? []) {
          const job = this.parse(item);
          if (job) jobs.push(job);
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey && jobs.length < query.limit);
    } catch (err) {
      throw toDomainError(err, "listing jobs");
    }
    return startKey ? { jobs, cursor: encodeKey(startKey) } : { jobs };
  }

  async delete(id: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: { [JOBS_TABLE.hashKey]: { S: id } },
        }),
      );
    } catch (err) {
      throw toDomainError(err, `deleting job ${id}`);
    }
  }
}

function encodeKey(key: Record<string, AttributeValue>): string {
  const id = key[JOBS_TABLE.hashKey]?.S;
  if (id === undefined) throw new Error("LastEvaluatedKey without the table's hash key");
  return Buffer.from(id).toString("base64url");
}

function decodeKey(cursor: string): Record<string, AttributeValue> {
  const id = Buffer.from(cursor, "base64url").toString();
  if (id.length === 0)
    throw new BadInputError(`invalid cursor "${cursor}"`, "pass the cursor returned by the last page");
  return { [JOBS_TABLE.hashKey]: { S: id } };
}

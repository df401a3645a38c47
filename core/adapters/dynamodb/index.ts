export { DynamoJobStore, type DynamoJobStoreOptions } from "./jobStore.ts";
export { DynamoOffsetStore, type DynamoOffsetStoreOptions } from "./offsetStore.ts";
export { JOBS_TABLE, jobsTableDefinition, OFFSETS_TABLE, offsetsTableDefinition } from "./schema.ts";

export { SqsBatchQueue, type SqsBatchQueueOptions } from "./batchQueue.ts";
export { messageDeduplicationId, messageGroupId } from "./ids.ts";

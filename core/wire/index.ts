/** Batch wire format: what the replicator puts in SQS and the Lambda writer reads back. */
export { decodeBatch } from "./decode.ts";
export {
  commandSize,
  type EncodedPart,
  type EncodeOptions,
  encodeBatch,
  encodeBatchParts,
  encodePayload,
} from "./encode.ts";
export { DEFAULT_MAX_MESSAGE_BYTES, WIRE_VERSION } from "./format.ts";

/**
 * Batch wire format v1 (the SQS message body between replicator and Lambda writer).
 *
 * SQS bodies must be valid XML characters, so the binary frame travels base64'd. The frame:
 *
 *   magic "RF" | version u8 | flags u8 | payload (gzip'd when FLAGS.gzip)
 *
 * payload = job str | shard str | replid str | kind u8 | first uvar | last uvar | bytes uvar
 *           | optional u8 (OPTIONAL_FIELDS bits) | [snapshotOffset uvar] | [endDb uvar]
 *           | [after uvar] | count uvar | command*
 * command = cflags u8 | offset uvar | db uvar | [seq uvar] | [txn uvar] | argc uvar | (len uvar, bytes)*
 *
 * `uvar` is unsigned LEB128 computed with arithmetic, not bit ops, so offsets up to 2^53 survive
 * (replication offsets are 64-bit counters; bitwise ops would truncate them at 2^31).
 */
export const WIRE_MAGIC = Buffer.from("RF", "latin1");
export const WIRE_VERSION = 1;
/** magic + version + flags. */
export const WIRE_HEADER_BYTES = 4;

export const FLAGS = {
  gzip: 0b0000_0001,
} as const;

/** Which optional Batch fields follow, in this order. */
export const OPTIONAL_FIELDS = {
  snapshotOffset: 0b0000_0001,
  endDb: 0b0000_0010,
  after: 0b0000_0100,
} as const;

export const COMMAND_FLAGS = {
  seq: 0b0000_0001,
  txn: 0b0000_0010,
} as const;

export const KIND_CODES = { snapshot: 0, stream: 1 } as const;
export const KINDS_BY_CODE = ["snapshot", "stream"] as const;

/**
 * SQS caps a message (body + attributes) at 1 MiB once the queue's MaximumMessageSize is raised
 * (infra sets it); keep headroom for the message attributes and the JSON envelope of the API call.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576 - 16_384;

/** Below this, gzip rarely pays for its header and CPU. */
export const COMPRESS_MIN_BYTES = 1_024;

export { RDB_OPCODE, RDB_TYPE } from "./constants.ts";
export { Crc64, crc64 } from "./crc64.ts";
export { RdbFormatError } from "./errors.ts";
export { lzfDecompress } from "./lzf.ts";
export { moduleNameFromId } from "./module.ts";
export { createRdbParser, DEFAULT_BIG_KEY_THRESHOLD, DEFAULT_CHUNK_BYTES, RdbParser } from "./parser.ts";
export { dumpPayload, parseDumpPayload } from "./payload.ts";
export type * from "./types.ts";

export { RESP_TYPE_BYTES, RespDecoder, type RespDecoderOptions } from "./decoder.ts";
export { type CommandArg, encodeCommand, encodeCommands, encodedLength, writeCommand } from "./encoder.ts";
export { RespProtocolError } from "./errors.ts";
export * from "./types.ts";

import { FatalError } from "../errors.ts";

/**
 * The peer sent bytes that are not RESP (or a corrupt stream). Fatal: re-reading the same bytes
 * cannot help, and guessing where the next frame starts would desynchronise replication offsets.
 */
export class RespProtocolError extends FatalError {
  override readonly name: string = "RespProtocolError";
  constructor(
    /** Absolute byte offset in the decoded stream where the problem was found. */
    readonly offset: number,
    /** What the decoder expected there, e.g. "CRLF after bulk string of 5 bytes". */
    readonly expected: string,
    /** A printable rendering of what was found instead. */
    readonly found: string,
  ) {
    super(
      `RESP protocol error at byte ${offset}: expected ${expected}, found ${found}`,
      "the peer is not speaking the Redis protocol (not a Redis server? TLS on one side only?) or the stream is corrupt",
    );
  }
}

/** Renders up to `max` bytes for an error message: printable ASCII as is, the rest as \xNN. */
export function showBytes(buf: Buffer, start: number, max = 16): string {
  if (start >= buf.length) return "end of input";
  const end = Math.min(buf.length, start + max);
  let out = "";
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    if (byte === 0x0d) out += "\\r";
    else if (byte === 0x0a) out += "\\n";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `"${out}${end < buf.length ? "…" : ""}"`;
}

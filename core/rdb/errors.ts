import { FatalError } from "../errors.ts";

/**
 * The RDB bytes are not what the format allows: truncated input, a bad checksum, an unknown type or
 * opcode, or an encoding that does not decode. Retrying the same bytes cannot help (FatalError); the
 * message names the byte offset, the key when known, and what was found.
 */
export class RdbFormatError extends FatalError {
  override readonly name: string = "RdbFormatError";
  constructor(
    message: string,
    /** Absolute byte offset in the RDB where the problem was found. */
    readonly offset: number,
    /** The key being parsed, when the problem is inside a key. */
    readonly key?: Buffer,
    options?: ErrorOptions,
  ) {
    super(
      `RDB format error at byte ${offset}${key ? ` (key ${JSON.stringify(printable(key))})` : ""}: ${message}`,
      "The snapshot is corrupt, truncated, or of a format this version of ferry does not know: " +
        "check the source's RDB version (INFO server) and retry with a fresh snapshot.",
      options,
    );
  }
}

/** Keys are binary; show them as latin1 with a length cap so an error message stays readable. */
function printable(key: Buffer): string {
  const text = key.subarray(0, 200).toString("latin1");
  return key.length > 200 ? `${text}…` : text;
}

/**
 * Error classes a caller must tell apart (STYLE.md habit 3). Every message says what to do.
 *
 * - RetryableError: the operation may succeed later (connection lost, LOADING, MOVED, TRYAGAIN).
 * - FatalError: retrying cannot help (auth, ACL, unsupported type, target refuses a payload).
 * - BadInputError: the user's input is wrong (malformed URL, invalid option); exit code 2.
 */
export class FerryError extends Error {
  override readonly name: string = "FerryError";
  constructor(
    message: string,
    /** What the user should do about it, shown after the message. */
    readonly advice?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class RetryableError extends FerryError {
  override readonly name: string = "RetryableError";
}

export class FatalError extends FerryError {
  override readonly name: string = "FatalError";
}

export class BadInputError extends FerryError {
  override readonly name: string = "BadInputError";
}

/** A conditional write lost a race (JobStore/OffsetStore): reload and retry or give up. */
export class ConflictError extends FerryError {
  override readonly name: string = "ConflictError";
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RetryableError;
}

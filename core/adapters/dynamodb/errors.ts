/**
 * Maps SDK exceptions to the domain errors of core/errors.ts (Powertools habit: a lost conditional
 * write is a ConflictError the caller can handle, never a raw SDK exception).
 */
import { FatalError, RetryableError } from "../../errors.ts";

const RETRYABLE = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
  "ServiceUnavailable",
  "TimeoutError",
  "ECONNREFUSED",
  "ECONNRESET",
]);

export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof Error && err.name === "ConditionalCheckFailedException";
}

export function toDomainError(err: unknown, what: string): Error {
  if (!(err instanceof Error)) return new FatalError(`${what}: ${String(err)}`);
  const code = (err as { code?: string }).code;
  if (RETRYABLE.has(err.name) || (code !== undefined && RETRYABLE.has(code))) {
    return new RetryableError(`${what}: ${err.message}`, "DynamoDB is throttling or unreachable; retry", {
      cause: err,
    });
  }
  if (err.name === "ResourceNotFoundException") {
    return new FatalError(
      `${what}: table not found`,
      "deploy the stack (npx sst deploy) or check the table name",
      {
        cause: err,
      },
    );
  }
  return new FatalError(`${what}: ${err.name}: ${err.message}`, "check the table and IAM permissions", {
    cause: err,
  });
}

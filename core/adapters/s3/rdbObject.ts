/**
 * `--source-rdb s3://bucket/key`: GetObject's Body streamed straight into the RDB parser (no local
 * copy). Credentials and region come from the usual AWS chain (env, profile, instance role);
 * AWS_ENDPOINT_URL_S3 points at an S3-compatible store (MinIO, R2…), path-style then.
 */
import { GetObjectCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { BadInputError, FatalError, RetryableError } from "../../errors.ts";
import type { RdbInput, RdbOpener } from "../../readers/rdbFile/input.ts";

export function parseS3Location(location: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match)
    throw new BadInputError(
      `"${location}" is not an S3 location`,
      "write it as s3://bucket/path/to/dump.rdb",
    );
  return { bucket: match[1]!, key: match[2]! };
}

export function s3RdbOpener(config: S3ClientConfig = {}): RdbOpener {
  return async (location: string): Promise<RdbInput> => {
    const { bucket, key } = parseS3Location(location);
    const endpoint = config.endpoint ?? process.env["AWS_ENDPOINT_URL_S3"];
    const client = new S3Client({
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
      ...config,
    });
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!object.Body) throw new FatalError(`${location} has no body`, "check the object in S3");
      return {
        // In Node the Body is a Readable (SdkStreamMixin): async-iterable, pulled as parsed.
        stream: object.Body as unknown as AsyncIterable<Uint8Array>,
        size: object.ContentLength ?? null,
        display: location,
      };
    } catch (err) {
      throw s3Error(location, err);
    }
  };
}

function s3Error(location: string, err: unknown): Error {
  if (err instanceof FatalError || err instanceof RetryableError) return err;
  const name = (err as { name?: string }).name ?? "";
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = `cannot read ${location}: ${name} ${(err as Error).message}`.trim();
  if (name === "NoSuchKey" || name === "NoSuchBucket" || status === 404)
    return new BadInputError(message, "check the bucket and key (s3://bucket/path/to/dump.rdb)");
  if (name === "AccessDenied" || status === 403)
    return new FatalError(message, "give the credentials in use s3:GetObject on that object");
  return new RetryableError(
    message,
    "check the network and AWS credentials/region, then run the command again",
    {
      cause: err,
    },
  );
}

/**
 * Where `--source-rdb` reads from: a local path (or file:// URL), an http(s):// URL, or an
 * s3://bucket/key object (the opener is injected: core never imports the AWS SDK, see
 * core/adapters/s3). Every input is a byte stream consumed as it arrives — nothing is downloaded
 * to disk first — with its size when the server says it (progress).
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { BadInputError, FatalError, RetryableError } from "../../errors.ts";

export interface RdbInput {
  /** Chunks in order; iteration pulls, so a slow consumer slows the download (backpressure). */
  stream: AsyncIterable<Uint8Array>;
  /** Total bytes when known (file size, Content-Length), else null. */
  size: number | null;
  /** For logs and status: the location without credentials or query string. */
  display: string;
}

export type RdbOpener = (location: string) => Promise<RdbInput>;

export interface OpenRdbOptions {
  /** Opener for s3:// locations (core/adapters/s3/rdbObject.ts). */
  s3?: RdbOpener;
  fetch?: typeof fetch;
}

const READ_CHUNK = 1024 * 1024;

export async function openRdbInput(location: string, opts: OpenRdbOptions = {}): Promise<RdbInput> {
  if (location.startsWith("s3://")) {
    if (!opts.s3)
      throw new BadInputError(
        `cannot read ${location}: no S3 client configured`,
        "use the ferry CLI (it reads s3:// with the AWS SDK) or give a local path / https:// URL",
      );
    return opts.s3(location);
  }
  if (/^https?:\/\//i.test(location)) return openHttp(location, opts.fetch ?? fetch);
  return openFile(location.startsWith("file://") ? fileURLToPath(location) : location);
}

async function openFile(path: string): Promise<RdbInput> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error("not a regular file");
    size = info.size;
  } catch (err) {
    throw new BadInputError(
      `cannot read the RDB file ${path}: ${(err as Error).message}`,
      "give --source-rdb a readable .rdb file, an https:// URL or s3://bucket/key",
    );
  }
  return { stream: createReadStream(path, { highWaterMark: READ_CHUNK }), size, display: path };
}

function redactHttp(location: string): string {
  const url = new URL(location);
  // Presigned URLs carry credentials in the query string; user:pass@ in the authority.
  return `${url.protocol}//${url.host}${url.pathname}`;
}

async function openHttp(location: string, fetcher: typeof fetch): Promise<RdbInput> {
  const display = redactHttp(location);
  let response: Response;
  try {
    // identity: a transparently gunzipped body would not match Content-Length (progress).
    response = await fetcher(location, { headers: { "accept-encoding": "identity" } });
  } catch (err) {
    throw new RetryableError(
      `cannot fetch ${display}: ${(err as Error).message}`,
      "check the URL and that this machine can reach it; then run the command again",
      { cause: err },
    );
  }
  if (!response.ok || !response.body) {
    const advice =
      response.status === 403 || response.status === 401
        ? "the server refused access: use a presigned URL, or s3://bucket/key with AWS credentials"
        : "check the URL (the RDB must be served as the raw file)";
    const error = `GET ${display} answered ${response.status} ${response.statusText}`;
    throw response.status >= 500 ? new RetryableError(error, advice) : new FatalError(error, advice);
  }
  const length = response.headers.get("content-length");
  const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
  return {
    stream: response.body as unknown as AsyncIterable<Uint8Array>,
    size: length !== null && !encoded ? Number(length) : null,
    display,
  };
}

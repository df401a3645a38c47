/**
 * A JobStore decorator that keeps endpoint passwords out of the store in plain text.
 *
 * A job given as `redis://user:password@host` is stored with that URL sealed (AES-256-GCM) as
 * `sealed:v1:<base64 iv|tag|ciphertext>`; reads open it again, so the service and the runner see
 * the URL they were given. Secret references (`{ secret: … }`) and URLs without a password are
 * stored as they are. `ferry serve` keeps the key in `<state-dir>/secret.key` (mode 0600), apart
 * from the job file, so a copied jobs.json or a backup of it does not carry usable credentials.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { FatalError } from "../errors.ts";
import type { JobListQuery, JobRecord, JobStore } from "../ports.ts";
import type { Endpoint, JobSpec } from "./spec.ts";

const PREFIX = "sealed:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Reads the 32-byte key at `path`, creating it (0600) on first use. */
export function loadOrCreateKey(path: string): Buffer {
  if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600, flag: "wx" });
  const key = readFileSync(path);
  if (key.length !== 32) {
    throw new FatalError(
      `${path} is not a ferry secret key (32 bytes)`,
      "restore the original file; jobs sealed with another key cannot be opened",
    );
  }
  return key;
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== "";
  } catch {
    return false;
  }
}

export function seal(key: Buffer, text: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

export function unseal(key: Buffer, sealed: string): string {
  const raw = Buffer.from(sealed.slice(PREFIX.length), "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      "utf8",
    );
  } catch (err) {
    throw new FatalError(
      "a stored job's credentials cannot be opened with this secret key",
      "was secret.key replaced? restore it, or recreate the job",
      { cause: err },
    );
  }
}

export class SealedJobStore<Status> implements JobStore<JobSpec, Status> {
  constructor(
    private readonly inner: JobStore<JobSpec, Status>,
    private readonly key: Buffer,
  ) {}

  private sealEndpoint = (endpoint: Endpoint): Endpoint =>
    typeof endpoint === "string" && hasPassword(endpoint) ? seal(this.key, endpoint) : endpoint;

  private openEndpoint = (endpoint: Endpoint): Endpoint =>
    typeof endpoint === "string" && endpoint.startsWith(PREFIX) ? unseal(this.key, endpoint) : endpoint;

  private sealed(job: JobRecord<JobSpec, Status>): JobRecord<JobSpec, Status> {
    return {
      ...job,
      spec: {
        ...job.spec,
        source: this.sealEndpoint(job.spec.source),
        target: this.sealEndpoint(job.spec.target),
      },
    };
  }

  private opened(job: JobRecord<JobSpec, Status>): JobRecord<JobSpec, Status> {
    return {
      ...job,
      spec: {
        ...job.spec,
        source: this.openEndpoint(job.spec.source),
        target: this.openEndpoint(job.spec.target),
      },
    };
  }

  create(job: JobRecord<JobSpec, Status>): Promise<void> {
    return this.inner.create(this.sealed(job));
  }

  async get(id: string): Promise<JobRecord<JobSpec, Status> | null> {
    const job = await this.inner.get(id);
    return job ? this.opened(job) : null;
  }

  async list(query: JobListQuery): Promise<{ jobs: JobRecord<JobSpec, Status>[]; cursor?: string }> {
    const page = await this.inner.list(query);
    return { ...page, jobs: page.jobs.map((job) => this.opened(job)) };
  }

  async update(
    next: JobRecord<JobSpec, Status>,
    expectedVersion: number,
  ): Promise<JobRecord<JobSpec, Status>> {
    return this.opened(await this.inner.update(this.sealed(next), expectedVersion));
  }

  delete(id: string): Promise<void> {
    return this.inner.delete(id);
  }
}

/**
 * Credentials for the AWS shape: a job's endpoint is a redis:// URL or a reference to where the URL
 * is kept (core/jobs/spec.ts SecretRef). Only the NAME of a Secrets Manager secret or SSM parameter
 * ever sits in DynamoDB or SQS; the value is read here, at run time, with the function's IAM role.
 */

import { readFile } from "node:fs/promises";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { FatalError, RetryableError } from "../../core/errors.ts";
import type { Endpoint, SecretRef } from "../../core/jobs/spec.ts";

/** Resolves a SecretRef to the redis:// URL it holds. */
export interface SecretResolver {
  resolve(ref: SecretRef["secret"]): Promise<string>;
}

export interface AwsSecretResolverOptions {
  secretsManager?: SecretsManagerClient;
  ssm?: SSMClient;
  /** For `{ env }` references (default: process.env). */
  env?: Record<string, string | undefined>;
}

export class AwsSecretResolver implements SecretResolver {
  private secretsManager: SecretsManagerClient | undefined;
  private ssm: SSMClient | undefined;

  constructor(private readonly options: AwsSecretResolverOptions = {}) {
    this.secretsManager = options.secretsManager;
    this.ssm = options.ssm;
  }

  async resolve(ref: SecretRef["secret"]): Promise<string> {
    if ("env" in ref) {
      const value = (this.options.env ?? process.env)[ref.env];
      if (!value)
        throw new FatalError(`environment variable ${ref.env} is not set`, "set it on the function");
      return value.trim();
    }
    if ("file" in ref) return (await readFile(ref.file, "utf8")).trim();
    if ("awsSecret" in ref) {
      this.secretsManager ??= new SecretsManagerClient({});
      const out = await this.call(`secret ${ref.awsSecret}`, () =>
        this.secretsManager!.send(new GetSecretValueCommand({ SecretId: ref.awsSecret })),
      );
      if (!out.SecretString)
        throw new FatalError(
          `secret ${ref.awsSecret} has no string value`,
          "store the redis:// URL as the secret string",
        );
      return out.SecretString.trim();
    }
    this.ssm ??= new SSMClient({});
    const out = await this.call(`SSM parameter ${ref.ssmParameter}`, () =>
      this.ssm!.send(new GetParameterCommand({ Name: ref.ssmParameter, WithDecryption: true })),
    );
    const value = out.Parameter?.Value;
    if (!value)
      throw new FatalError(`SSM parameter ${ref.ssmParameter} is empty`, "store the redis:// URL in it");
    return value.trim();
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      if (/NotFound|AccessDenied|ParameterNotFound|ResourceNotFound/i.test(name)) {
        throw new FatalError(
          `cannot read ${what}: ${name}`,
          "check the name in the job spec and the function's IAM policy",
          {
            cause: err,
          },
        );
      }
      throw new RetryableError(`cannot read ${what}: ${String(err)}`, "retry; AWS may be throttling", {
        cause: err,
      });
    }
  }
}

/** The redis:// URL of an endpoint, reading the referenced secret when it is one. */
export async function endpointUrl(endpoint: Endpoint, secrets: SecretResolver): Promise<string> {
  return typeof endpoint === "string" ? endpoint : secrets.resolve(endpoint.secret);
}

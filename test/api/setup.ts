/**
 * The job API wired for tests: the real app, service and memory JobStore, driven through the
 * ManualRunner (which migrates nothing; the tests report progress through it).
 */
import { Registry } from "prom-client";
import { MemoryJobStore } from "../../core/adapters/memory/jobStore.ts";
import { createApp } from "../../core/api/app.ts";
import { type ApiKey, hashApiKey } from "../../core/api/auth.ts";
import { ManualRunner } from "../../core/jobs/manualRunner.ts";
import { JobService } from "../../core/jobs/service.ts";
import type { JobSpec } from "../../core/jobs/spec.ts";
import type { StoredStatus } from "../../core/jobs/view.ts";

export const ADMIN_KEY = "ferry_test-admin-key-0123456789";
export const READ_KEY = "ferry_test-read-key-0123456789";

export function apiKeys(): ApiKey[] {
  return [
    { hash: hashApiKey(ADMIN_KEY), role: "admin" },
    { hash: hashApiKey(READ_KEY), role: "read" },
  ];
}

export function buildApi(opts: { heartbeatMs?: number; cutoverTimeoutMs?: number } = {}) {
  const store = new MemoryJobStore<JobSpec, StoredStatus>();
  const runner = new ManualRunner();
  const service = new JobService({ store, runner, cutoverTimeoutMs: opts.cutoverTimeoutMs ?? 60_000 });
  const registry = new Registry();
  const app = createApp({
    service,
    auth: { keys: apiKeys() },
    registry,
    version: "test",
    heartbeatMs: opts.heartbeatMs ?? 15_000,
  });
  return { app, store, runner, service, registry };
}

export const SPEC = {
  name: "orders migration",
  source: "redis://:s3cret-source@10.0.0.5:6379",
  target: { secret: { env: "FERRY_TARGET_URL" } },
  mode: "full+incremental",
  dbMap: { "0": 0, "3": 1 },
  bigKeyThreshold: "64mb",
  labels: { team: "payments" },
} as const;

export function auth(key = ADMIN_KEY, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...extra };
}

export function jsonBody(body: unknown, key = ADMIN_KEY, extra: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: auth(key, { "content-type": "application/json", ...extra }),
    body: JSON.stringify(body),
  };
}

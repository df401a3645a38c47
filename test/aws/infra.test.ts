/** The deployment numbers that AWS limits constrain (DESIGN.md), checked without an AWS account. */
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../../core/wire/format.ts";
import {
  apiPermissions,
  replicatorPermissions,
  secretReadPermissions,
  writerPermissions,
} from "../../infra/policies.ts";
import { QUEUE, SECRET_PREFIX, WRITER } from "../../infra/settings.ts";

describe("infra settings", () => {
  it("queue visibility is at least 6× the writer timeout (AWS guidance for Lambda consumers)", () => {
    expect(QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * WRITER.timeoutSeconds);
    expect(QUEUE.visibilityTimeoutSeconds).toBeLessThanOrEqual(12 * 3600);
  });

  it("the queue accepts the largest message the wire format produces, and FIFO batches are ≤ 10", () => {
    expect(QUEUE.maximumMessageSizeBytes).toBe(1_048_576);
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBeLessThan(QUEUE.maximumMessageSizeBytes);
    expect(WRITER.batchSize).toBeLessThanOrEqual(10);
  });

  it("permissions are scoped to the stack's resources and the secret prefix, never '*'", () => {
    const t = { jobs: "arn:jobs", offsets: "arn:offsets", queue: "arn:queue" };
    const all = [
      ...writerPermissions(t),
      ...replicatorPermissions(t),
      ...apiPermissions(t),
      ...secretReadPermissions((p) => `arn:aws:${p}`),
    ];
    for (const p of all) {
      expect(p.resources.length).toBeGreaterThan(0);
      for (const r of p.resources) expect(r).not.toBe("*");
      for (const a of p.actions) expect(a).not.toMatch(/\*/);
    }
    const secrets = secretReadPermissions((p) => `arn:aws:${p}`).flatMap((p) => p.resources);
    for (const r of secrets) expect(r).toContain(`${SECRET_PREFIX}*`);
    // The writer never writes jobs and never deletes offsets.
    const writer = writerPermissions(t);
    expect(writer.find((p) => p.resources.includes("arn:jobs"))?.actions).toEqual(["dynamodb:GetItem"]);
  });
});

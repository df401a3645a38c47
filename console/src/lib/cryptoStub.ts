/**
 * Browser stand-in for node:crypto. core/jobs/spec.ts uses createHash only for the server-side
 * Idempotency-Key hash, which the console never calls; failing loudly keeps a future caller honest.
 */
export function createHash(): never {
  throw new Error("createHash is not available in the browser console");
}

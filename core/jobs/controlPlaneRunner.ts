/**
 * ControlPlaneRunner: the runner of a deployment whose data plane runs elsewhere (the Lambda API
 * before the Fargate replicator runner is wired). It runs nothing: the job store holds the state the
 * API set (paused, resumed, stopped), and a replicator reconciles with it. What needs a live
 * replicator — a cutover's wait for lag 0 — fails with a message saying so.
 */
import { FatalError } from "../errors.ts";
import type { CutoverResult, JobRunner, RunnerStatus } from "./runner.ts";

export class ControlPlaneRunner implements JobRunner {
  async start(): Promise<void> {}
  async pause(): Promise<void> {}
  async resume(): Promise<void> {}
  async stop(): Promise<void> {}
  async cutover(id: string): Promise<CutoverResult> {
    throw new FatalError(
      `cutover of ${id} needs a running replicator, and this deployment has none attached to the API`,
      "stop writes to the source, watch lag reach 0 on the job, then stop the job",
    );
  }
  async remove(): Promise<number> {
    return 0;
  }
  status(): RunnerStatus | null {
    return null;
  }
  subscribe(): () => void {
    return () => undefined;
  }
  async close(): Promise<void> {}
}

import { describe, expect, it } from "vitest";
import {
  allowedActions,
  applyAction,
  applyRunnerPhase,
  JOB_ACTIONS,
  JOB_STATES,
  pausedPhase,
} from "../../core/jobs/stateMachine.ts";
import type { JobState } from "../../core/ports.ts";

describe("job state machine", () => {
  it("allows exactly these actions per state", () => {
    const table = Object.fromEntries(JOB_STATES.map((s) => [s, allowedActions(s)]));
    expect(table).toEqual({
      pending: ["pause", "stop", "delete"],
      snapshot: ["pause", "stop"],
      streaming: ["pause", "stop", "cutover"],
      paused: ["resume", "stop", "delete"],
      stopping: [],
      completed: ["delete"],
      failed: ["delete"],
    });
  });

  it("applyAction agrees with allowedActions and explains refusals", () => {
    for (const state of JOB_STATES) {
      for (const action of JOB_ACTIONS) {
        const result = applyAction(state, action);
        expect(result.ok, `${action} from ${state}`).toBe(allowedActions(state).includes(action));
        if (!result.ok) {
          expect(result.reason).toBe(`cannot ${action} a job that is ${state}`);
          expect(result.advice.length).toBeGreaterThan(10);
        }
      }
    }
  });

  it("resume returns to the phase the job was paused in", () => {
    expect(applyAction("paused", "resume", pausedPhase("streaming"))).toEqual({
      ok: true,
      next: "streaming",
    });
    // A snapshot cannot continue half-way: a resumed snapshot starts again as a snapshot.
    expect(applyAction("paused", "resume", pausedPhase("snapshot"))).toEqual({ ok: true, next: "snapshot" });
    expect(applyAction("paused", "resume", pausedPhase("pending"))).toEqual({ ok: true, next: "snapshot" });
  });

  it("runner phases move the job forward only, never out of a pause or a final state", () => {
    const cases: Array<[JobState, Parameters<typeof applyRunnerPhase>[1], JobState | null]> = [
      ["pending", "snapshot", "snapshot"],
      ["snapshot", "streaming", "streaming"],
      ["streaming", "snapshot", null],
      ["paused", "streaming", null],
      ["stopping", "completed", "completed"],
      ["snapshot", "completed", "completed"],
      ["paused", "failed", "failed"],
      ["completed", "failed", null],
      ["failed", "streaming", null],
      ["streaming", "streaming", null],
    ];
    for (const [state, phase, next] of cases)
      expect(applyRunnerPhase(state, phase), `${phase} from ${state}`).toBe(next);
  });
});

/**
 * The job lifecycle, as data:
 *
 *   pending → snapshot → streaming ⇄ paused → stopping → completed
 *                 (any non-final state) → failed
 *
 * Users drive it with actions (pause, resume, stop, cutover, delete); the runner drives it with what
 * actually happened (snapshot done, caught up, crashed). Pure functions only: the service applies the
 * result with a conditional write, so two racing requests cannot both win.
 */
import type { JobState } from "../ports.ts";

export const JOB_STATES = [
  "pending",
  "snapshot",
  "streaming",
  "paused",
  "stopping",
  "completed",
  "failed",
] as const satisfies readonly JobState[];

export const JOB_ACTIONS = ["pause", "resume", "stop", "cutover", "delete"] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

/** Phases the runner reports; each moves the job only from the listed states. */
export const RUNNER_PHASES = ["snapshot", "streaming", "completed", "failed"] as const;
export type RunnerPhase = (typeof RUNNER_PHASES)[number];

export const FINAL_STATES: readonly JobState[] = ["completed", "failed"];

/**
 * Which states each action starts from. `resume` returns to the phase the job was paused in;
 * `cutover` needs the live stream (lag can only reach 0 there); `delete` refuses a job that is still
 * writing to the target, because its markers would be removed under a live writer.
 */
const ACTIONS = {
  pause: { from: ["pending", "snapshot", "streaming"], to: "paused" },
  resume: { from: ["paused"], to: "resume" },
  stop: { from: ["pending", "snapshot", "streaming", "paused"], to: "stopping" },
  cutover: { from: ["streaming"], to: "stopping" },
  delete: { from: ["pending", "paused", "completed", "failed"], to: "deleted" },
} as const satisfies Record<JobAction, { from: readonly JobState[]; to: JobState | "resume" | "deleted" }>;

const ADVICE = {
  pause: "only a pending, snapshot or streaming job can be paused",
  resume: "only a paused job can be resumed",
  stop: "the job has already finished or is stopping",
  cutover:
    "cutover waits for lag 0 on the live stream: wait until the job is streaming (resume it if paused)",
  delete: "stop the job first (POST /v1/jobs/{id}:stop), then delete it",
} as const satisfies Record<JobAction, string>;

const PHASES = {
  snapshot: ["pending", "snapshot"],
  streaming: ["pending", "snapshot", "streaming"],
  completed: ["pending", "snapshot", "streaming", "stopping"],
  failed: ["pending", "snapshot", "streaming", "paused", "stopping"],
} as const satisfies Record<RunnerPhase, readonly JobState[]>;

export type Transition<T> = { ok: true; next: T } | { ok: false; reason: string; advice: string };

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

export function allowedActions(state: JobState): JobAction[] {
  return JOB_ACTIONS.filter((action) => (ACTIONS[action].from as readonly JobState[]).includes(state));
}

/**
 * Applies a user action. `resumeTo` is the phase the job was paused in (a snapshot interrupted by a
 * pause restarts as a snapshot: a new +FULLRESYNC brings a new RDB).
 */
export function applyAction(
  state: JobState,
  action: JobAction,
  resumeTo: "snapshot" | "streaming" = "snapshot",
): Transition<JobState | "deleted"> {
  const rule = ACTIONS[action];
  if (!(rule.from as readonly JobState[]).includes(state)) {
    return { ok: false, reason: `cannot ${action} a job that is ${state}`, advice: ADVICE[action] };
  }
  return { ok: true, next: rule.to === "resume" ? resumeTo : rule.to };
}

/** Applies a phase reported by the runner; a report that no longer fits (e.g. after a pause) is ignored. */
export function applyRunnerPhase(state: JobState, phase: RunnerPhase): JobState | null {
  if (state === phase) return null;
  return (PHASES[phase] as readonly JobState[]).includes(state) ? phase : null;
}

/** The phase to return to on resume, from the state being paused. */
export function pausedPhase(state: JobState): "snapshot" | "streaming" {
  return state === "streaming" ? "streaming" : "snapshot";
}

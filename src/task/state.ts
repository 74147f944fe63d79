/**
 * Where a task is in its life.
 *
 * `blocked` waits for the tasks it depends on, `scheduled` waits for its run-at time, `pending` waits for a worker,
 * `running` is held under a lease, `retrying` waits out its backoff. The rest
 * are final: `completed`, `failed` (for good), `cancelled` and `expired` (its
 * time-to-live passed before any worker started it).
 */
export type TaskState =
  | "blocked"
  | "scheduled"
  | "pending"
  | "running"
  | "retrying"
  | "completed"
  | "failed"
  | "cancelled"
  | "expired";

/** Every state, in lifecycle order. */
export const TASK_STATES: readonly TaskState[] = [
  "blocked",
  "scheduled",
  "pending",
  "running",
  "retrying",
  "completed",
  "failed",
  "cancelled",
  "expired",
];

/** States a worker may claim from, once the task's run-at time has come. */
export const WAITING_STATES: readonly TaskState[] = ["scheduled", "pending", "retrying"];

/** States a task never leaves. */
export const FINAL_STATES: readonly TaskState[] = ["completed", "failed", "cancelled", "expired"];

export function isFinal(state: TaskState): boolean {
  return FINAL_STATES.includes(state);
}

export function isWaiting(state: TaskState): boolean {
  return WAITING_STATES.includes(state);
}

/** Final states a task can be requeued from: the dead letters and the never-run. */
export const REQUEUEABLE_STATES: readonly TaskState[] = ["failed", "cancelled", "expired"];

/** The kinds of worker, each with its own way of running a task. */
export type WorkerType = "async" | "thread" | "process" | "gevent";

export const WORKER_TYPES: readonly WorkerType[] = ["async", "thread", "process", "gevent"];

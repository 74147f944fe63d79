import type { TaskState, WorkerType } from "./state.js";

/** A task's error as stored: enough to rebuild and show it elsewhere. */
export interface TaskErrorInfo {
  /** The error's class name, such as `TypeError` or `TaskTimeoutError`. */
  name: string;
  message: string;
  stack?: string;
}

/** How long to wait before the next attempt, in a form that can be stored. */
export type BackoffSpec =
  | {
      type: "exponential";
      /** Delay before the second attempt, in ms; it doubles after each failure. */
      baseMs: number;
      /** Upper bound of any one delay, in ms. */
      maxMs: number;
      /** Spread each delay at random over [delay/2, delay] so retries do not march in step. */
      jitter: boolean;
    }
  | { type: "fixed"; delayMs: number };

/** What the application hands storage when it enqueues a task. Times are ms since the epoch. */
export interface NewTask {
  id: string;
  /** The task definition's name; plain functions get a name of their own (see registry). */
  name: string;
  queue: string;
  /** Higher runs first within a queue. */
  priority: number;
  /** The encoded argument list (see codec). */
  payload: string;
  /** Not claimable before this time. */
  runAt: number;
  createdAt: number;
  /** Attempts allowed in all: retries + 1. */
  maxAttempts: number;
  timeoutMs: number | null;
  /** A task still waiting at this time is marked `expired` and never run. */
  expiresAt: number | null;
  /** How long the result is kept after the task finishes, in ms. */
  resultTtlMs: number;
  backoff: BackoffSpec | null;
  /** The worker type that runs it. */
  worker: WorkerType;
  /** The module that defines the task, for workers that load it by name. */
  module: string | null;
  /**
   * While a task that is not final holds this key, another enqueue with the
   * same key stores nothing and answers the holder's id. Absent means none.
   */
  idempotencyKey?: string | null;
  /**
   * Tasks this one waits for: it is stored `blocked` until the dependency
   * resolver unblocks it. Absent or null means none. Storage keeps it as given.
   */
  dependencies?: Dependencies | null;
}

/** What a task waits for, and whether it receives their results. */
export interface Dependencies {
  /** Ids of the tasks that must complete first. */
  on: string[];
  /**
   * How their results reach the task, as an argument put before its own:
   * `value` the one dependency's result (a chain step), `list` an array of
   * all results in `on` order (a group's final task), `none` not at all.
   */
  pass: "none" | "value" | "list";
}

/** A task as storage keeps it: what was enqueued plus where it is now. */
export interface TaskRecord extends NewTask {
  idempotencyKey: string | null;
  dependencies: Dependencies | null;
  state: TaskState;
  /** Attempts started so far; the first attempt is 1. */
  attempts: number;
  /** Times a worker stopped heartbeating while holding the task. */
  leaseLosses: number;
  /** Raised by every claim; only the current value may settle the task. */
  token: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  cancelRequested: boolean;
  lastError: TaskErrorInfo | null;
}

/** A task a worker holds: the record plus the lease it was claimed under. */
export type ClaimedTask = TaskRecord & { leaseOwner: string; leaseExpiresAt: number };

/**
 * Where a new task starts: blocked behind dependencies until the resolver
 * unblocks it, else scheduled before its run-at time or pending. For
 * backends that build records in code; SQL and Lua say the same.
 */
export function initialState(task: NewTask, now: number): TaskState {
  if (task.dependencies && task.dependencies.on.length > 0) return "blocked";
  return task.runAt > now ? "scheduled" : "pending";
}

/** A copy of a task's dependencies that shares no array with the caller's, or null for none. */
export function copyDependencies(
  dependencies: Dependencies | null | undefined,
): Dependencies | null {
  if (!dependencies) return null;
  return { on: [...dependencies.on], pass: dependencies.pass };
}

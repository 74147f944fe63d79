import type { Duration } from "../util/duration.js";
import type { WorkerType } from "./state.js";

/** Backoff between attempts, as given by users. */
export type BackoffOption =
  | {
      type: "exponential";
      /** Delay before the second attempt; doubles after each failure. @default "1s" */
      base?: Duration;
      /** Longest single delay. @default "1h" */
      max?: Duration;
      /** Spread delays at random so that retries do not march in step. @default true */
      jitter?: boolean;
    }
  | { type: "fixed"; delay: Duration }
  /**
   * Computes the delay in ms before attempt `attempt + 1` from the failed
   * attempt's number (from 1) and its error. Only in a task definition: a
   * function cannot be stored with a task.
   */
  | ((attempt: number, error: unknown) => number);

/**
 * Options of one task. Each has a default in the task definition, then in the
 * config's `defaults`.
 */
export interface TaskOptions {
  /** The queue the task waits in. @default "default" */
  queue?: string;
  /** Higher runs first within its queue; any integer. @default 0 */
  priority?: number;
  /**
   * Longest time one attempt may run; then its `AbortSignal` fires and the attempt fails. @default
   * none
   */
  timeout?: Duration | null;
  /** Attempts after the first when one fails. @default 0 */
  retries?: number;
  /** Wait before each retry. @default exponential from 1s, up to 1h, with jitter */
  backoff?: BackoffOption;
  /** A task not started within this time of its run-at time is marked expired. @default none */
  ttl?: Duration | null;
  /** How long the result is kept once the task has ended. @default "1d" */
  resultTtl?: Duration;
  /** The kind of worker that runs it. @default the config's `defaultWorker` */
  worker?: WorkerType;
}

/** Options given for one enqueue, on top of the task definition's. */
export interface EnqueueOptions extends Omit<TaskOptions, "backoff"> {
  /** Start no sooner than this long from now. */
  delay?: Duration;
  /** Start no sooner than this time. */
  runAt?: Date | number;
  /** A stored backoff; a function is allowed only in the task definition. */
  backoff?: Exclude<BackoffOption, (attempt: number, error: unknown) => number>;
  /** Use this id instead of a generated one. */
  id?: string;
  /**
   * While a task enqueued with this key has not finished, enqueueing another
   * with the same key stores nothing and answers the first task's id.
   */
  idempotencyKey?: string;
  /**
   * Ids of tasks to wait for: this one runs once all have completed, and is
   * cancelled, with a reason naming the culprit, if one of them fails for
   * good, is cancelled or expires.
   */
  dependsOn?: readonly string[];
  /**
   * Give the task its dependencies' results, as an argument before its own:
   * `value` the first dependency's result, `list` an array of all in
   * `dependsOn` order. @default "none"
   */
  passResults?: "none" | "value" | "list";
}

import { AsyncLocalStorage } from "node:async_hooks";

/** What a running task can learn about itself through `currentTask()`. */
export interface TaskContext {
  id: string;
  name: string;
  queue: string;
  /** This attempt's number, from 1. */
  attempt: number;
  /** Fires when the attempt times out, is cancelled, or its worker stops. */
  signal: AbortSignal;
}

const contexts = new AsyncLocalStorage<TaskContext>();

/** The task whose plain (not `async`) function runs right now, synchronously. */
let runningPlain: TaskContext | undefined;

/**
 * The task this code runs for, or undefined outside a task. A task reads its
 * `AbortSignal` here, so the signal never has to be one of its arguments.
 *
 * ```ts
 * const download = defineTask("download", async (url: string) => {
 *   const response = await fetch(url, { signal: currentTask()?.signal });
 *   return response.status;
 * });
 * ```
 */
export function currentTask(): TaskContext | undefined {
  return runningPlain ?? contexts.getStore();
}

/**
 * Runs `fn` with `context` as the current task, through every `await` and callback it leaves
 * behind.
 */
export function runAsTask<T>(context: TaskContext, fn: () => T): T {
  return contexts.run(context, fn);
}

/**
 * Runs `fn` with `context` as the current task while it runs synchronously,
 * for functions not declared `async`. Cheaper than `runAsTask`: once an
 * AsyncLocalStorage is used, Node runs a hook for every promise the process
 * creates from then on (measured: about a tenth of the end-to-end cost of a
 * no-op task on SQLite), which a function that never awaits does not need.
 */
export function runPlainAsTask<T>(context: TaskContext, fn: () => T): T {
  const outer = runningPlain;
  runningPlain = context;
  try {
    return fn();
  } finally {
    runningPlain = outer;
  }
}

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
  return contexts.getStore();
}

/** Runs `fn` with `context` as the current task. */
export function runAsTask<T>(context: TaskContext, fn: () => T): T {
  return contexts.run(context, fn);
}

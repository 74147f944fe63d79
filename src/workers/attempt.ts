import {
  NonRetryableError,
  TaskCancelledError,
  TaskTimeoutError,
  toErrorInfo,
  UnrunnableTaskError,
} from "../errors.js";
import type { Settlement } from "../storage/contract.js";
import { lookupTask } from "../task/define.js";
import type { BackoffSpec, ClaimedTask } from "../task/record.js";
import { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";

/** Why an attempt ended before its function did. */
export type Interruption = "timeout" | "cancel" | "lost" | "stopping";

/** What a worker type hands the code it runs for an attempt. */
export interface AttemptHandle {
  /** The attempt's signal, made when first asked for: leave it unread until needed. */
  readonly signal: AbortSignal;
  /** The task's function begins: its timeout counts from here, not from the claim. */
  started(): void;
}

/**
 * One attempt a worker holds, from claim until its settlement is written.
 *
 * Its `AbortSignal` is made only when something asks for it: most tasks
 * never look, and making one (an AbortController, its EventTarget, and a
 * listener to race the task against) costs more than running a small task.
 * Ending the attempt early does not need the signal: `interrupt` ends the
 * race directly, and fires the signal if it exists.
 */
export class Attempt implements AttemptHandle {
  /** Set when the attempt must end without running to its own end. */
  interrupted: Interruption | undefined;
  cancelReason: string | undefined;
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private aborted = false;
  private endRace: ((reason: unknown) => void) | undefined;
  private timing = false;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param task What was claimed. Replaced once, before it runs, by the task
   *   with its dependencies' results in its arguments (see task/dependencies.ts).
   */
  constructor(public task: ClaimedTask) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Starts the attempt's timeout, if it has one; only the first call counts. */
  started(): void {
    if (this.timing) return;
    this.timing = true;

    const { timeoutMs } = this.task;
    if (timeoutMs === null || timeoutMs <= 0) return;
    this.timer = setTimeout(() => {
      this.interrupted = "timeout";
      this.abort(
        new TaskTimeoutError(`attempt ${this.task.attempts} timed out after ${timeoutMs} ms`),
      );
    }, timeoutMs);
  }

  /** The function is over, one way or another: its timeout no longer runs. */
  ended(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Fires the signal (once) and ends `race` with `reason`. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.endRace?.(reason);
  }

  /**
   * Runs `work` for the attempt, ending early when it is aborted: a task
   * that ignores its signal cannot hold a worker's slot past its timeout.
   */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.aborted) return Promise.reject(this.abortReason);
    return new Promise<T>((resolve, reject) => {
      this.endRace = reject;
      work.then(resolve, reject);
    });
  }
}

/** The settlement of an attempt whose function returned `result` (encoded). */
export function completed(attempt: Attempt, result: string): Settlement {
  const { id, token } = attempt.task;
  return { id, token, outcome: "completed", result };
}

/** The settlement of an attempt that threw or was interrupted: retry, fail, or cancelled. */
export function failed(attempt: Attempt, thrown: unknown, now: number): Settlement {
  const { id, token } = attempt.task;

  if (attempt.interrupted === "cancel") {
    const reason = attempt.cancelReason ?? "cancelled";
    return {
      id,
      token,
      outcome: "cancelled",
      error: { name: TaskCancelledError.name, message: reason },
    };
  }

  const error = toErrorInfo(thrown);
  const retryAt = canRetry(attempt.task, thrown) ? now + retryDelay(attempt.task, thrown) : null;
  return { id, token, outcome: "failed", error, retryAt };
}

/** Lost leases do not use up retries: only attempts that ended in an error count. */
function canRetry(task: ClaimedTask, thrown: unknown): boolean {
  if (isNamed(thrown, NonRetryableError.name) || isNamed(thrown, UnrunnableTaskError.name)) {
    return false;
  }
  const failures = task.attempts - task.leaseLosses;
  return failures < task.maxAttempts;
}

/**
 * Marks an error from a thread or child process with the delay its task
 * definition's backoff function chose there: the function may be defined
 * only where the task ran.
 */
export const RETRY_DELAY = Symbol("omniq.retryDelay");

function retryDelay(task: ClaimedTask, thrown: unknown): number {
  const failures = task.attempts - task.leaseLosses;
  const remote = (thrown as { [RETRY_DELAY]?: unknown } | null)?.[RETRY_DELAY];
  if (typeof remote === "number") return Math.max(0, remote);

  const custom = lookupTask(task.name)?.options.backoff;
  if (typeof custom === "function") return Math.max(0, custom(failures, thrown));

  const spec: BackoffSpec = task.backoff ?? DEFAULT_BACKOFF;
  return backoffDelay(spec, failures);
}

// Errors may cross a thread or process boundary, losing their class: the name survives.
function isNamed(thrown: unknown, name: string): boolean {
  return thrown instanceof Error && thrown.name === name;
}

// Small builders for the records the contract suite feeds a backend. Every
// field has a plain default so a test names only what it is about.
import type { ClaimRequest, Settlement } from "../../src/storage/contract.js";
import type { NewTask, TaskErrorInfo } from "../../src/task/record.js";

/** The time every contract test's clock starts at; default run-at and creation time of tasks. */
export const START = Date.UTC(2030, 0, 1);

let counter = 0;

/** A task that is due at START in queue `default` for `async` workers. */
export function newTask(fields: Partial<NewTask> = {}): NewTask {
  counter += 1;
  return {
    id: `task-${counter}`,
    name: "contract.echo",
    queue: "default",
    priority: 0,
    payload: JSON.stringify([counter]),
    runAt: START,
    createdAt: START,
    maxAttempts: 3,
    timeoutMs: null,
    expiresAt: null,
    resultTtlMs: 60_000,
    backoff: null,
    worker: "async",
    module: null,
    ...fields,
  };
}

/** `count` tasks with ids `${prefix}-0` … in that order, sharing `fields`. */
export function newTasks(count: number, prefix: string, fields: Partial<NewTask> = {}): NewTask[] {
  return Array.from({ length: count }, (_, i) => newTask({ id: `${prefix}-${i}`, ...fields }));
}

/** A claim of up to 10 tasks from queue `default` for `async` workers, leased for 30 s. */
export function claimRequest(fields: Partial<ClaimRequest> = {}): ClaimRequest {
  return {
    queues: ["default"],
    workers: ["async"],
    limit: 10,
    owner: "worker-1",
    leaseMs: 30_000,
    ...fields,
  };
}

export function errorInfo(message = "boom", name = "Error"): TaskErrorInfo {
  return { name, message };
}

/** A `completed` settlement of the lease `{ id, token }`. */
export function completed(lease: { id: string; token: number }, result = '"ok"'): Settlement {
  return { id: lease.id, token: lease.token, outcome: "completed", result };
}

/** A `failed` settlement; `retryAt` null means failed for good. */
export function failed(
  lease: { id: string; token: number },
  retryAt: number | null,
  error = errorInfo(),
): Settlement {
  return { id: lease.id, token: lease.token, outcome: "failed", error, retryAt };
}

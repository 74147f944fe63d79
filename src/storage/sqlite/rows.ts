import type { TaskEvent, TaskEventType } from "../../events/types.js";
import type {
  BackoffSpec,
  Dependencies,
  NewTask,
  TaskErrorInfo,
  TaskRecord,
} from "../../task/record.js";
import type { TaskState, WorkerType } from "../../task/state.js";

/** The columns of omniq_tasks that make a `TaskRecord`, in the order of `TaskTuple`. */
export const TASK_COLUMNS = `seq, id, name, queue, priority, payload, run_at, created_at, max_attempts,
  timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state, attempts, lease_losses,
  token, lease_owner, lease_expires_at, started_at, finished_at, cancel_requested, last_error,
  idempotency_key, dependencies`;

/**
 * A task row as `TASK_COLUMNS` selects it in raw mode. Arrays rather than
 * objects: better-sqlite3 builds an array of 25 values markedly faster than
 * an object of 25 properties, and `listTasks` reads up to thousands.
 */
export type TaskTuple = [
  seq: number,
  id: string,
  name: string,
  queue: string,
  priority: number,
  payload: string,
  runAt: number,
  createdAt: number,
  maxAttempts: number,
  timeoutMs: number | null,
  expiresAt: number | null,
  resultTtlMs: number,
  backoff: string | null,
  worker: string,
  module: string | null,
  state: string,
  attempts: number,
  leaseLosses: number,
  token: number,
  leaseOwner: string | null,
  leaseExpiresAt: number | null,
  startedAt: number | null,
  finishedAt: number | null,
  cancelRequested: number,
  lastError: string | null,
  idempotencyKey: string | null,
  dependencies: string | null,
];

/** A row of omniq_events. */
export interface EventRow {
  seq: number;
  task_seq: number;
  task_id: string;
  type: string;
  at: number;
  queue: string;
  name: string;
  attempt: number;
  error: string | null;
  run_at: number | null;
}

/** The parameters of the INSERT into omniq_tasks, in column order. */
export type TaskInsertParams = [
  id: string,
  name: string,
  queue: string,
  priority: number,
  payload: string,
  runAt: number,
  createdAt: number,
  maxAttempts: number,
  timeoutMs: number | null,
  expiresAt: number | null,
  resultTtlMs: number,
  backoff: string | null,
  worker: string,
  module: string | null,
  state: string,
  lane: number | null,
  idempotencyKey: string | null,
  dependencies: string | null,
  blocked: 1 | null,
];

/** A task that waits for others is stored `blocked`. */
export function startsBlocked(task: NewTask): boolean {
  return task.dependencies != null && task.dependencies.on.length > 0;
}

/**
 * A blocked task is in neither lane (see schema.ts); any other is
 * `scheduled` or `pending` by its run-at time.
 */
export function toInsertParams(task: NewTask, now: number): TaskInsertParams {
  const dependencies = task.dependencies ?? null;
  const blocked = startsBlocked(task);
  const due = task.runAt <= now;
  return [
    task.id,
    task.name,
    task.queue,
    task.priority,
    task.payload,
    task.runAt,
    task.createdAt,
    task.maxAttempts,
    task.timeoutMs,
    task.expiresAt,
    task.resultTtlMs,
    task.backoff === null ? null : JSON.stringify(task.backoff),
    task.worker,
    task.module,
    blocked ? "blocked" : due ? "pending" : "scheduled",
    blocked ? null : due ? 1 : 0,
    task.idempotencyKey ?? null,
    dependencies === null ? null : JSON.stringify(dependencies),
    blocked ? 1 : null,
  ];
}

export function encodeError(error: TaskErrorInfo): string {
  return JSON.stringify(error);
}

export function decodeError(text: string | null): TaskErrorInfo | null {
  return text === null ? null : (JSON.parse(text) as TaskErrorInfo);
}

export function toTaskRecord(row: TaskTuple): TaskRecord {
  const [
    ,
    id,
    name,
    queue,
    priority,
    payload,
    runAt,
    createdAt,
    maxAttempts,
    timeoutMs,
    expiresAt,
    resultTtlMs,
    backoff,
    worker,
    module,
    state,
    attempts,
    leaseLosses,
    token,
    leaseOwner,
    leaseExpiresAt,
    startedAt,
    finishedAt,
    cancelRequested,
    lastError,
    idempotencyKey,
    dependencies,
  ] = row;

  return {
    id,
    name,
    queue,
    priority,
    payload,
    runAt,
    createdAt,
    maxAttempts,
    timeoutMs,
    expiresAt,
    resultTtlMs,
    backoff: decodeBackoff(backoff),
    worker: worker as WorkerType,
    module,
    state: state as TaskState,
    attempts,
    leaseLosses,
    token,
    leaseOwner,
    leaseExpiresAt,
    startedAt,
    finishedAt,
    cancelRequested: cancelRequested !== 0,
    lastError: decodeError(lastError),
    idempotencyKey,
    dependencies: decodeDependencies(dependencies),
  };
}

export function decodeDependencies(text: string | null): Dependencies | null {
  return text === null ? null : (JSON.parse(text) as Dependencies);
}

export function toTaskEvent(row: EventRow): TaskEvent {
  const event: TaskEvent = {
    seq: row.seq,
    taskId: row.task_id,
    type: row.type as TaskEventType,
    at: row.at,
    queue: row.queue,
    name: row.name,
    attempt: row.attempt,
  };
  if (row.error !== null) event.error = JSON.parse(row.error) as TaskErrorInfo;
  if (row.run_at !== null) event.runAt = row.run_at;
  return event;
}

/** Distinct backoff texts remembered; past this the memory starts over. */
const BACKOFF_MEMORY = 64;
const parsedBackoffs = new Map<string, BackoffSpec>();

/**
 * Tasks of one definition share their backoff text, and a claim reads one
 * per task: parsing each costs more than finding it among those seen. Each
 * record gets its own copy (the spec is flat, so a shallow one).
 */
export function decodeBackoff(text: string | null): BackoffSpec | null {
  if (text === null) return null;

  let spec = parsedBackoffs.get(text);
  if (spec === undefined) {
    if (parsedBackoffs.size >= BACKOFF_MEMORY) parsedBackoffs.clear();
    spec = JSON.parse(text) as BackoffSpec;
    parsedBackoffs.set(text, spec);
  }
  return { ...spec };
}

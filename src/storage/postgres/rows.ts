import type { TaskEvent, TaskEventType } from "../../events/types.js";
import type { BackoffSpec, Dependencies, TaskErrorInfo, TaskRecord } from "../../task/record.js";
import type { TaskState, WorkerType } from "../../task/state.js";

/** The columns both task tables share, in the order `TaskRow` lists them. */
const COMMON_COLUMNS = `id, name, queue, priority, payload, run_at, created_at, max_attempts,
  timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state, attempts, lease_losses,
  token, started_at, finished_at, cancel_requested, last_error, idempotency_key, dependencies`;

/** What makes a `TaskRecord`, read from `tasks` (prefix `alias.` with `prefixed`). */
export const TASK_COLUMNS = `${COMMON_COLUMNS}, lease_owner, lease_expires_at`;

/** The same from `finished`, where a task never holds a lease. */
export const FINISHED_COLUMNS = `${COMMON_COLUMNS}, NULL::text AS lease_owner,
  NULL::bigint AS lease_expires_at`;

/** `TASK_COLUMNS` qualified by a table alias, for statements that join. */
export function prefixed(alias: string): string {
  return TASK_COLUMNS.split(",")
    .map((column) => `${alias}.${column.trim()}`)
    .join(", ");
}

/** A row as `TASK_COLUMNS` or `FINISHED_COLUMNS` selects it. */
export interface TaskRow {
  id: string;
  name: string;
  queue: string;
  priority: number;
  payload: string;
  run_at: number;
  created_at: number;
  max_attempts: number;
  timeout_ms: number | null;
  expires_at: number | null;
  result_ttl_ms: number;
  backoff: string | null;
  worker: string;
  module: string | null;
  state: string;
  attempts: number;
  lease_losses: number;
  token: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  cancel_requested: boolean;
  last_error: string | null;
  idempotency_key: string | null;
  /** JSON of `Dependencies`. */
  dependencies: string | null;
}

/** A row of the events table. */
export interface EventRow {
  seq: number;
  task_id: string;
  type: string;
  at: number;
  queue: string;
  name: string;
  attempt: number;
  error: string | null;
  run_at: number | null;
}

export function toRecord(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    priority: row.priority,
    payload: row.payload,
    runAt: row.run_at,
    createdAt: row.created_at,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    expiresAt: row.expires_at,
    resultTtlMs: row.result_ttl_ms,
    backoff: row.backoff === null ? null : (JSON.parse(row.backoff) as BackoffSpec),
    worker: row.worker as WorkerType,
    module: row.module,
    state: row.state as TaskState,
    attempts: row.attempts,
    leaseLosses: row.lease_losses,
    token: row.token,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    cancelRequested: row.cancel_requested,
    lastError: parseError(row.last_error),
    idempotencyKey: row.idempotency_key,
    dependencies: row.dependencies === null ? null : (JSON.parse(row.dependencies) as Dependencies),
  };
}

export function toEvent(row: EventRow): TaskEvent {
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

/**
 * A time or duration as the bigint columns take it: whole milliseconds. A
 * clock or a duration may carry a fraction; bigint would refuse it.
 */
export function ms(value: number): number {
  return Math.round(value);
}

/** `ms` for a value that may be null. */
export function msOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

export function parseError(text: string | null): TaskErrorInfo | null {
  return text === null ? null : (JSON.parse(text) as TaskErrorInfo);
}

/** The stored form of an error: only the fields of `TaskErrorInfo`, so nothing else leaks in. */
export function errorText(error: TaskErrorInfo): string {
  const { name, message, stack } = error;
  return JSON.stringify(stack === undefined ? { name, message } : { name, message, stack });
}

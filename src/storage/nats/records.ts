// A task record as the tasks bucket stores it: the contract's record plus the
// few facts the backend keeps beside it (enqueue order, result, the reason of
// a cancel request, and the batch it was enqueued with until it is first
// changed).
import {
  copyDependencies,
  initialState,
  type NewTask,
  type TaskRecord,
} from "../../task/record.js";
import type { StorageSignal, TaskOutcome } from "../contract.js";
import { readJson, type StoredMessage } from "./jetstream.js";

export interface StoredTask {
  task: TaskRecord;
  /**
   * Enqueue position: the revision the record was created at. Unknown while
   * the record is untouched (its revision is then that very number), so it
   * is written in on the first change.
   */
  order: number | null;
  /** The encoded result, once completed. */
  result?: string;
  /** Why a running task was asked to cancel, for when its lease runs out. */
  cancelReason?: string;
  /**
   * The enqueue batch, while the record is untouched. A record with a batch
   * exists only once that batch's commit marker does (see enqueue.ts).
   */
  batch?: string;
  /** Clock time of the enqueue, to recognise records of a batch that never committed. */
  stagedAt?: number;
}

/** After this long, a record whose batch never committed is taken to be abandoned. */
export const ABANDONED_AFTER_MS = 60_000;

/** A stored task with the KV revision it was read at: the compare-and-set token. */
export interface Versioned {
  stored: StoredTask;
  rev: number;
}

/** The record of a task just enqueued. */
export function newStoredTask(task: NewTask, now: number, batch: string): StoredTask {
  const record: TaskRecord = {
    id: task.id,
    name: task.name,
    queue: task.queue,
    priority: task.priority,
    payload: task.payload,
    runAt: task.runAt,
    createdAt: task.createdAt,
    maxAttempts: task.maxAttempts,
    timeoutMs: task.timeoutMs,
    expiresAt: task.expiresAt,
    resultTtlMs: task.resultTtlMs,
    backoff: task.backoff === null ? null : { ...task.backoff },
    worker: task.worker,
    module: task.module,
    idempotencyKey: task.idempotencyKey ?? null,
    dependencies: copyDependencies(task.dependencies ?? null),
    state: initialState(task, now),
    attempts: 0,
    leaseLosses: 0,
    token: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    startedAt: null,
    finishedAt: null,
    cancelRequested: false,
    lastError: null,
  };
  return { task: record, order: null, batch, stagedAt: now };
}

export function orderOf(versioned: Versioned): number {
  return versioned.stored.order ?? versioned.rev;
}

/**
 * A copy of a stored task to change and write back: the batch mark goes
 * (a changed record no longer needs its marker) and the order is fixed.
 */
export function forRewrite(versioned: Versioned): StoredTask {
  const { stored } = versioned;
  const next: StoredTask = { task: copyRecord(stored.task), order: orderOf(versioned) };
  if (stored.result !== undefined) next.result = stored.result;
  if (stored.cancelReason !== undefined) next.cancelReason = stored.cancelReason;
  return next;
}

/** A record that shares no object with the stored one, for callers to keep or change. */
export function copyRecord(record: TaskRecord): TaskRecord {
  return {
    ...record,
    backoff: record.backoff === null ? null : { ...record.backoff },
    lastError: record.lastError === null ? null : { ...record.lastError },
    // Records stored before these fields existed read as having none.
    idempotencyKey: record.idempotencyKey ?? null,
    dependencies: copyDependencies(record.dependencies ?? null),
  };
}

export function encodeStored(stored: StoredTask): string {
  return JSON.stringify(stored);
}

export function decodeStored(message: StoredMessage): Versioned {
  return { stored: readJson<StoredTask>(message), rev: message.seq };
}

/** What `getOutcome` answers for a stored task. */
export function outcomeOf(stored: StoredTask): TaskOutcome {
  const { task, result } = stored;
  const outcome: TaskOutcome = { state: task.state };
  if (task.state === "completed" && result !== undefined) outcome.result = result;
  if (task.lastError) outcome.error = { ...task.lastError };
  return outcome;
}

/** The `finished` signal of tasks that just ended, with their outcomes for waiters nearby. */
export function finishedSignal(finished: readonly { after: Versioned }[]): StorageSignal {
  const outcomes = new Map(
    finished.map(({ after }) => [after.stored.task.id, outcomeOf(after.stored)] as const),
  );
  return { type: "finished", ids: [...outcomes.keys()], outcomes };
}

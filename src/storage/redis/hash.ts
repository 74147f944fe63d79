import type { TaskEvent } from "../../events/types.js";
import type {
  BackoffSpec,
  ClaimedTask,
  Dependencies,
  NewTask,
  TaskErrorInfo,
  TaskRecord,
} from "../../task/record.js";
import type { TaskState, WorkerType } from "../../task/state.js";

/*
 * How a task lives in its Redis hash (see scripts/prelude.ts): `d` holds the
 * task as enqueued, as a JSON array; the fields that change have one hash
 * field each, numbers as decimal text, `lastError` as JSON, `cancelRequested`
 * as "1", and a null or zero field may be absent. `runAt` has a field of its
 * own because a retry moves it. Lease fields count only while it runs.
 */

/**
 * A task as enqueued, stored as one JSON array in field `d`: parsing it skips
 * the keys. The last two are left out while null, so a plain task is stored
 * as before they existed; `requeue` rewrites the array without its
 * time-to-live and key (see dead-letters.ts).
 */
export type StoredTask = [
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
  backoff: BackoffSpec | null,
  worker: WorkerType,
  module: string | null,
  dependencies?: Dependencies | null,
  idempotencyKey?: string | null,
];

/** Where `expiresAt` and `idempotencyKey` sit in a `StoredTask`. */
export const STORED_EXPIRES_AT = 9;
export const STORED_KEY = 15;

/** Drops the trailing nulls of the optional fields, so plain tasks keep 14 values. */
function trimmed(stored: StoredTask): StoredTask {
  while (stored.length > 14 && (stored.at(-1) ?? null) === null) stored.pop();
  return stored;
}

/** The stored array without a time-to-live or key, for a requeued task. */
export function requeuedStored(d: string): string {
  const stored = JSON.parse(d) as StoredTask;
  stored[STORED_EXPIRES_AT] = null;
  if (stored.length > STORED_KEY) stored[STORED_KEY] = null;
  return JSON.stringify(trimmed(stored));
}

/** The enqueue script's values for one task, in `ENQUEUE_WIDTH` order. */
export function enqueueValues(task: NewTask): string[] {
  const stored: StoredTask = [
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
    task.backoff,
    task.worker,
    task.module,
  ];
  if ((task.dependencies ?? null) !== null || (task.idempotencyKey ?? null) !== null) {
    stored.push(task.dependencies ?? null, task.idempotencyKey ?? null);
    trimmed(stored);
  }
  // What every event of the task repeats, escaped once here rather than in
  // Lua: the object's fields without its braces.
  const stem = JSON.stringify({ taskId: task.id, queue: task.queue, name: task.name }).slice(1, -1);
  return [
    task.id,
    JSON.stringify(stored),
    stem,
    task.queue,
    task.worker,
    String(task.priority),
    String(task.runAt),
    task.expiresAt === null ? "" : String(task.expiresAt),
    String(task.resultTtlMs),
    task.name,
  ];
}

/** The changing part of a record, read from the hash or known from a claim. */
interface Progress {
  runAt: number;
  state: TaskState;
  attempts: number;
  leaseLosses: number;
  token: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  cancelRequested: boolean;
  lastError: TaskErrorInfo | null;
}

/** Joins the stored task and its progress into a fresh record, field by field. */
function buildRecord(d: string, p: Progress): TaskRecord {
  return recordOf(JSON.parse(d) as StoredTask, p);
}

function recordOf(v: StoredTask, p: Progress): TaskRecord {
  return {
    id: v[0],
    name: v[1],
    queue: v[2],
    priority: v[3],
    payload: v[4],
    runAt: p.runAt,
    createdAt: v[6],
    maxAttempts: v[7],
    timeoutMs: v[8],
    expiresAt: v[9],
    resultTtlMs: v[10],
    backoff: v[11],
    worker: v[12],
    module: v[13],
    idempotencyKey: v[15] ?? null,
    dependencies: v[14] ?? null,
    state: p.state,
    attempts: p.attempts,
    leaseLosses: p.leaseLosses,
    token: p.token,
    leaseOwner: p.leaseOwner,
    leaseExpiresAt: p.leaseExpiresAt,
    startedAt: p.startedAt,
    finishedAt: p.finishedAt,
    cancelRequested: p.cancelRequested,
    lastError: p.lastError,
  };
}

/** Reads a flat field/value list (HGETALL inside a script) into an object. */
export function hashObject(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

function numberOrNull(value: string | undefined): number | null {
  return value === undefined ? null : Number(value);
}

function errorOrNull(value: string | undefined | false): TaskErrorInfo | null {
  return value === undefined || value === false || value === "" ? null : JSON.parse(value);
}

/** Builds the record a caller gets from the stored hash: a fresh object each time. */
export function recordFromHash(h: Record<string, string>): TaskRecord {
  const running = h.state === "running";
  return buildRecord(h.d ?? "[]", {
    runAt: Number(h.runAt),
    state: h.state as TaskState,
    attempts: Number(h.attempts ?? 0),
    leaseLosses: Number(h.leaseLosses ?? 0),
    token: Number(h.token ?? 0),
    leaseOwner: running ? (h.leaseOwner ?? null) : null,
    leaseExpiresAt: running ? numberOrNull(h.leaseExpiresAt) : null,
    startedAt: numberOrNull(h.startedAt),
    finishedAt: numberOrNull(h.finishedAt),
    cancelRequested: h.cancelRequested === "1",
    lastError: errorOrNull(h.lastError),
  });
}

/**
 * One claimed task as claims and handovers answer it (see
 * scripts/claim-core.ts): the stored task as JSON (not a string), runAt,
 * attempts, token, leaseLosses, cancelRequested (0 or 1) and lastError
 * (null when none).
 */
export type ClaimedEntry = [StoredTask, ...ClaimedMeta];

/** A claimed entry without its stored task, as a claim's answer lists them (see claim.ts). */
export type ClaimedMeta = [number, number, number, number, number, TaskErrorInfo | null];

/** Builds a claimed task's record, leased to `owner` at `now` until `leaseExpiresAt`. */
export function claimedRecord(
  [v, runAt, attempts, token, leaseLosses, cancelRequested, lastError]: ClaimedEntry,
  owner: string,
  now: number,
  leaseExpiresAt: number,
): ClaimedTask {
  return recordOf(v, {
    runAt,
    state: "running",
    attempts,
    leaseLosses,
    token,
    leaseOwner: owner,
    leaseExpiresAt,
    startedAt: now,
    finishedAt: null,
    cancelRequested: cancelRequested === 1,
    lastError,
  }) as ClaimedTask;
}

/** Reads one event, as JSON. */
export function eventFromJson(json: string): TaskEvent {
  return JSON.parse(json) as TaskEvent;
}

/** Reads one member of the log: a JSON array of events. */
export function eventsOf(member: string): TaskEvent[] {
  return JSON.parse(member) as TaskEvent[];
}

// The write operations of the memory backend, as plain functions over a
// store and a time. Each one changes the records, writes their events and
// sends its signals only once every change is made.
import { InvalidArgumentError } from "../../errors.js";
import {
  type ClaimedTask,
  copyDependencies,
  initialState,
  type NewTask,
  type TaskRecord,
} from "../../task/record.js";
import { isFinal, isWaiting } from "../../task/state.js";
import type {
  CancelOutcome,
  ClaimRequest,
  HeartbeatReply,
  Lease,
  Settlement,
} from "../contract.js";
import { allowance, countClaims } from "./controls.js";
import type { MemoryStore, Slot } from "./store.js";

/** A stored record built from what the caller handed in, sharing no object with it. */
function newRecord(task: NewTask, now: number): TaskRecord {
  return {
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
    dependencies: copyDependencies(task.dependencies),
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
}

function clearLease(record: TaskRecord): void {
  record.leaseOwner = null;
  record.leaseExpiresAt = null;
}

/** The slot of a task still held under `lease`, or undefined when the lease is lost. */
function held(store: MemoryStore, lease: Lease): Slot | undefined {
  const slot = store.tasks.get(lease.id);
  const holds = slot?.record.state === "running" && slot.record.token === lease.token;
  return holds ? slot : undefined;
}

export function enqueue(store: MemoryStore, tasks: readonly NewTask[], now: number): string[] {
  const { answers, stored } = resolveKeys(store, tasks);

  // Every id is checked before anything is stored, so a batch is all or nothing.
  const ids = new Set<string>();
  for (const task of stored) {
    if (ids.has(task.id) || store.tasks.has(task.id)) {
      throw new InvalidArgumentError(
        `a task with id ${task.id} already exists; nothing was stored`,
      );
    }
    ids.add(task.id);
  }

  for (const task of stored) {
    const { record } = store.insert(newRecord(task, now));
    if (record.idempotencyKey !== null) store.keys.set(record.idempotencyKey, record.id);
    store.log(record, "enqueued", now);
  }

  for (const queue of new Set(stored.map((task) => task.queue))) {
    store.signal({ type: "ready", queue });
  }
  return answers;
}

/**
 * Splits a batch into the answer for each task and the tasks to store: a
 * task whose key a live task (stored, or earlier in the batch) holds is
 * answered with the holder's id and left out.
 */
function resolveKeys(store: MemoryStore, tasks: readonly NewTask[]) {
  const answers: string[] = [];
  const stored: NewTask[] = [];
  const taken = new Map<string, string>();

  for (const task of tasks) {
    const key = task.idempotencyKey ?? null;
    const holder = key === null ? undefined : (taken.get(key) ?? store.keyHolder(key));
    if (holder !== undefined) {
      answers.push(holder);
      continue;
    }
    if (key !== null) taken.set(key, task.id);
    answers.push(task.id);
    stored.push(task);
  }
  return { answers, stored };
}

export function claim(store: MemoryStore, request: ClaimRequest, now: number): ClaimedTask[] {
  const claimed: ClaimedTask[] = [];

  // Queues are read strictly in the order given: a later one only fills what is left.
  for (const queue of request.queues) {
    if (claimed.length >= request.limit) break;
    const room = allowance(store, queue, request.limit - claimed.length, now);
    if (room <= 0) continue;

    const taken = store.waiting.take(queue, request.workers, now, room);
    countClaims(store, queue, taken.length, now);
    for (const { record } of taken) {
      record.state = "running";
      record.attempts += 1;
      record.token += 1;
      record.leaseOwner = request.owner;
      record.leaseExpiresAt = now + request.leaseMs;
      record.startedAt = now;
      store.log(record, "executing", now);
      claimed.push(record as ClaimedTask);
    }
  }
  return claimed;
}

export function heartbeat(
  store: MemoryStore,
  leases: readonly Lease[],
  leaseMs: number,
  now: number,
): HeartbeatReply {
  const reply: HeartbeatReply = { lost: [], cancelRequested: [] };
  for (const lease of leases) {
    const slot = held(store, lease);
    if (!slot) {
      reply.lost.push(lease.id);
      continue;
    }

    slot.record.leaseExpiresAt = now + leaseMs;
    if (slot.record.cancelRequested) reply.cancelRequested.push(lease.id);
  }
  return reply;
}

export function settle(
  store: MemoryStore,
  settlements: readonly Settlement[],
  now: number,
): boolean[] {
  const finished: string[] = [];
  const readyQueues = new Set<string>();

  const applied = settlements.map((settlement) => {
    const slot = held(store, settlement);
    if (!slot) return false;

    applySettlement(store, slot, settlement, now);
    if (isFinal(slot.record.state)) finished.push(slot.record.id);
    else readyQueues.add(slot.record.queue);
    return true;
  });

  if (finished.length > 0) store.signal({ type: "finished", ids: finished });
  for (const queue of readyQueues) store.signal({ type: "ready", queue });
  return applied;
}

function applySettlement(store: MemoryStore, slot: Slot, settlement: Settlement, now: number) {
  const { record } = slot;
  clearLease(record);

  if (settlement.outcome === "completed") {
    record.state = "completed";
    record.finishedAt = now;
    slot.result = settlement.result;
    store.log(record, "completed", now);
    return;
  }

  const error = { ...settlement.error };
  record.lastError = error;
  if (settlement.outcome === "cancelled") {
    record.state = "cancelled";
    record.finishedAt = now;
    store.log(record, "cancelled", now, { error: { ...error } });
    return;
  }

  store.log(record, "error", now, { error: { ...error } });
  if (settlement.retryAt === null) {
    record.state = "failed";
    record.finishedAt = now;
    return;
  }
  record.state = "retrying";
  record.runAt = settlement.retryAt;
  store.log(record, "retry", now, { runAt: settlement.retryAt });
  store.wait(slot);
}

export function release(store: MemoryStore, leases: readonly Lease[]): void {
  const readyQueues = new Set<string>();
  for (const lease of leases) {
    const slot = held(store, lease);
    if (!slot) continue;

    // The attempt never ran, so it does not count; the token stays raised so
    // that the lease just handed back can never settle the task.
    slot.record.state = "pending";
    slot.record.attempts -= 1;
    clearLease(slot.record);
    store.wait(slot);
    readyQueues.add(slot.record.queue);
  }
  for (const queue of readyQueues) store.signal({ type: "ready", queue });
}

export function cancel(store: MemoryStore, id: string, reason: string, now: number): CancelOutcome {
  const slot = store.tasks.get(id);
  if (!slot) return "unknown";
  const { record } = slot;

  if (record.state === "running") {
    // The worker stops the task and settles it; until then it stays running.
    record.cancelRequested = true;
    slot.cancelReason = reason;
    store.signal({ type: "cancel", id });
    return "requested";
  }
  if (!isWaiting(record.state) && record.state !== "blocked") return "finished";

  const error = { name: "TaskCancelledError", message: reason };
  record.state = "cancelled";
  record.finishedAt = now;
  record.lastError = error;
  store.waiting.remove(slot);
  store.log(record, "cancelled", now, { error: { ...error } });
  store.signal({ type: "finished", ids: [id] });
  return "cancelled";
}

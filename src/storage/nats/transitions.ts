// The state changes of a task as pure functions: each takes the record read
// at some revision and answers the record to write in its place and the
// events that change makes. The caller writes the record with
// compare-and-set on that revision, and the events only if it won.
import type { TaskEvent, TaskEventType } from "../../events/types.js";
import type { TaskErrorInfo, TaskRecord } from "../../task/record.js";
import type { ClaimRequest, Settlement } from "../contract.js";
import { forRewrite, type StoredTask, type Versioned } from "./records.js";

/** An event before the events stream gives it its `seq`. */
export type EventDraft = Omit<TaskEvent, "seq">;

/** A record to write and the events it makes. */
export interface Change {
  next: StoredTask;
  events: EventDraft[];
}

export function eventOf(
  record: TaskRecord,
  type: TaskEventType,
  at: number,
  detail: Pick<TaskEvent, "error" | "runAt"> = {},
): EventDraft {
  const event: EventDraft = {
    taskId: record.id,
    type,
    at,
    queue: record.queue,
    name: record.name,
    attempt: record.attempts,
  };
  if (detail.error) event.error = { ...detail.error };
  if (detail.runAt !== undefined) event.runAt = detail.runAt;
  return event;
}

function clearLease(record: TaskRecord): void {
  record.leaseOwner = null;
  record.leaseExpiresAt = null;
}

export function claimChange(current: Versioned, request: ClaimRequest, now: number): Change {
  const next = forRewrite(current);
  const record = next.task;
  record.state = "running";
  record.attempts += 1;
  record.token += 1;
  record.leaseOwner = request.owner;
  record.leaseExpiresAt = now + request.leaseMs;
  record.startedAt = now;
  return { next, events: [eventOf(record, "executing", now)] };
}

export function heartbeatChange(current: Versioned, leaseMs: number, now: number): StoredTask {
  const next = forRewrite(current);
  next.task.leaseExpiresAt = now + leaseMs;
  return next;
}

export function settleChange(current: Versioned, settlement: Settlement, now: number): Change {
  const next = forRewrite(current);
  const record = next.task;
  clearLease(record);

  if (settlement.outcome === "completed") {
    record.state = "completed";
    record.finishedAt = now;
    next.result = settlement.result;
    return { next, events: [eventOf(record, "completed", now)] };
  }

  const error = { ...settlement.error };
  record.lastError = error;
  if (settlement.outcome === "cancelled") {
    record.state = "cancelled";
    record.finishedAt = now;
    return { next, events: [eventOf(record, "cancelled", now, { error })] };
  }

  const events = [eventOf(record, "error", now, { error })];
  if (settlement.retryAt === null) {
    record.state = "failed";
    record.finishedAt = now;
    return { next, events };
  }
  record.state = "retrying";
  record.runAt = settlement.retryAt;
  events.push(eventOf(record, "retry", now, { runAt: settlement.retryAt }));
  return { next, events };
}

/** A held task handed back unrun: the attempt does not count, the token stays raised. */
export function releaseChange(current: Versioned): StoredTask {
  const next = forRewrite(current);
  next.task.state = "pending";
  next.task.attempts -= 1;
  clearLease(next.task);
  return next;
}

export function cancelWaitingChange(current: Versioned, reason: string, now: number): Change {
  const next = forRewrite(current);
  const error: TaskErrorInfo = { name: "TaskCancelledError", message: reason };
  next.task.state = "cancelled";
  next.task.finishedAt = now;
  next.task.lastError = error;
  return { next, events: [eventOf(next.task, "cancelled", now, { error })] };
}

/** A running task asked to cancel: its worker learns it through heartbeats and signals. */
export function cancelRequestChange(current: Versioned, reason: string): StoredTask {
  const next = forRewrite(current);
  next.task.cancelRequested = true;
  next.cancelReason = reason;
  return next;
}

/** A running task whose lease ran out: cancelled, failed or handed back, as the contract says. */
export function loseLeaseChange(current: Versioned, maxLeaseLosses: number, now: number): Change {
  const next = forRewrite(current);
  const record = next.task;
  record.leaseLosses += 1;
  clearLease(record);

  if (record.cancelRequested) {
    const error = { name: "TaskCancelledError", message: next.cancelReason ?? "cancelled" };
    record.state = "cancelled";
    record.finishedAt = now;
    record.lastError = error;
    return { next, events: [eventOf(record, "cancelled", now, { error })] };
  }

  if (record.leaseLosses >= maxLeaseLosses) {
    const error = {
      name: "WorkerLostError",
      message: `the task lost its worker ${record.leaseLosses} times (no heartbeat before its lease ran out)`,
    };
    record.state = "failed";
    record.finishedAt = now;
    record.lastError = error;
    return { next, events: [eventOf(record, "error", now, { error })] };
  }

  // Back to waiting at once; the lost attempt stays counted in `attempts`.
  const error = {
    name: "WorkerLostError",
    message: "the worker holding the task stopped heartbeating; its lease ran out",
  };
  record.state = "pending";
  return { next, events: [eventOf(record, "retry", now, { error, runAt: now })] };
}

export function expireChange(current: Versioned, now: number): Change {
  const next = forRewrite(current);
  next.task.state = "expired";
  next.task.finishedAt = now;
  return { next, events: [eventOf(next.task, "expired", now)] };
}

/** A blocked task whose dependencies are met: it waits for its run-at time or a worker. */
export function unblockChange(current: Versioned, now: number): StoredTask {
  const next = forRewrite(current);
  next.task.state = next.task.runAt > now ? "scheduled" : "pending";
  return next;
}

/**
 * A dead letter (failed, cancelled or expired) back to pending, due now, as
 * if new: only its token stays, since a token only ever rises.
 */
export function requeueChange(current: Versioned, now: number): Change {
  const next = forRewrite(current);
  delete next.result;
  delete next.cancelReason;
  const record = next.task;
  record.state = "pending";
  record.runAt = now;
  record.attempts = 0;
  record.leaseLosses = 0;
  record.lastError = null;
  record.finishedAt = null;
  record.startedAt = null;
  record.expiresAt = null;
  record.idempotencyKey = null;
  record.cancelRequested = false;
  clearLease(record);
  return { next, events: [eventOf(record, "requeued", now)] };
}

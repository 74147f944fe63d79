import type { TaskRecord } from "../../task/record.js";

/**
 * A final task as `requeue` leaves it: waiting again from `now`, with its
 * attempts, error, times, time-to-live, key and lease cleared, and its
 * token kept (it only ever rises). For backends that rewrite whole records.
 */
export function requeuedRecord(record: TaskRecord, now: number): TaskRecord {
  return {
    ...record,
    state: "pending",
    runAt: now,
    attempts: 0,
    leaseLosses: 0,
    lastError: null,
    finishedAt: null,
    startedAt: null,
    expiresAt: null,
    idempotencyKey: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
  };
}

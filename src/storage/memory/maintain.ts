import { isFinal, isWaiting } from "../../task/state.js";
import type { MaintenanceOptions, MaintenanceReport } from "../contract.js";
import type { MemoryStore, Slot } from "./store.js";

/** Housekeeping over a memory store, in the order the contract gives. */
export function maintain(
  store: MemoryStore,
  options: MaintenanceOptions,
  now: number,
): MaintenanceReport {
  const finished: string[] = [];
  const readyQueues = new Set<string>();
  const report: MaintenanceReport = {
    leasesExpired: 0,
    tasksExpired: 0,
    resultsDeleted: 0,
    eventsDeleted: 0,
  };

  for (const slot of store.tasks.values()) {
    const { record } = slot;
    if (record.state !== "running" || (record.leaseExpiresAt ?? Infinity) > now) continue;

    report.leasesExpired += 1;
    loseLease(store, slot, options.maxLeaseLosses, now);
    if (isFinal(record.state)) finished.push(record.id);
    else readyQueues.add(record.queue);
  }

  for (const slot of store.tasks.values()) {
    const { record } = slot;
    if (!isWaiting(record.state) || record.expiresAt === null || record.expiresAt > now) continue;

    report.tasksExpired += 1;
    record.state = "expired";
    record.finishedAt = now;
    store.waiting.remove(slot);
    store.log(record, "expired", now);
    finished.push(record.id);
  }

  // Deleting from a Map while iterating it is safe: entries not yet visited are still visited.
  for (const { record } of store.tasks.values()) {
    if (!isFinal(record.state) || (record.finishedAt ?? now) + record.resultTtlMs > now) continue;

    report.resultsDeleted += 1;
    store.delete(record.id);
  }

  report.eventsDeleted = store.dropEvents((event) => event.at + options.eventTtlMs <= now);

  if (finished.length > 0) store.signal({ type: "finished", ids: finished });
  for (const queue of readyQueues) store.signal({ type: "ready", queue });
  return report;
}

/** A running task whose lease ran out: cancelled, failed or handed back, as the contract says. */
function loseLease(store: MemoryStore, slot: Slot, maxLeaseLosses: number, now: number): void {
  const { record } = slot;
  record.leaseLosses += 1;
  record.leaseOwner = null;
  record.leaseExpiresAt = null;

  if (record.cancelRequested) {
    const error = { name: "TaskCancelledError", message: slot.cancelReason ?? "cancelled" };
    record.state = "cancelled";
    record.finishedAt = now;
    record.lastError = error;
    store.log(record, "cancelled", now, { error: { ...error } });
    return;
  }

  if (record.leaseLosses >= maxLeaseLosses) {
    const error = {
      name: "WorkerLostError",
      message: `the task lost its worker ${record.leaseLosses} times (no heartbeat before its lease ran out)`,
    };
    record.state = "failed";
    record.finishedAt = now;
    record.lastError = error;
    store.log(record, "error", now, { error: { ...error } });
    return;
  }

  // Back to waiting at once; the lost attempt stays counted in `attempts`.
  const error = {
    name: "WorkerLostError",
    message: "the worker holding the task stopped heartbeating; its lease ran out",
  };
  record.state = "pending";
  store.log(record, "retry", now, { error, runAt: now });
  store.wait(slot);
}

import type { TaskErrorInfo } from "../../task/record.js";
import type { MaintenanceOptions, MaintenanceReport } from "../contract.js";
import type { Changes } from "./changes.js";
import { encodeError } from "./rows.js";
import type { Statements } from "./statements.js";

/** Rows deleted per transaction, so housekeeping never holds the write lock for long. */
export const PURGE_CHUNK = 2_000;

/** How housekeeping reaches the handle's connection. */
export interface MaintenanceAccess {
  /** Runs `body` in a write transaction of its own, then sends its signals. */
  write<T>(body: (changes: Changes) => T): T;
  read<T>(body: () => T): T;
  now(): number;
}

/** `Storage.maintain`: its four steps, the deletions in chunks (see deleteInChunks). */
export function runMaintenance(
  statements: Statements,
  options: MaintenanceOptions,
  access: MaintenanceAccess,
): MaintenanceReport {
  const [leasesExpired, tasksExpired] = access.write((changes) => [
    expireLeases(statements, options, changes),
    expireWaiting(statements, changes),
  ]);

  const now = access.now();
  const { purgeTasks, purgeEvents } = statements;
  const resultsDeleted = deleteInChunks((limit) =>
    access.write(() => purgeTasks.run(now, limit).changes),
  );

  const liveFrom = access.read(() => firstLiveEvent(statements, now - options.eventTtlMs));
  const eventsDeleted = deleteInChunks((limit) =>
    access.write(() => purgeEvents.run(liveFrom, limit).changes),
  );
  return { leasesExpired, tasksExpired, resultsDeleted, eventsDeleted };
}

/**
 * Step 1 of `maintain`: running tasks whose lease ran out. Each one counts a
 * lease loss and then ends (cancel asked for, or too many losses) or waits
 * again at once. Runs inside the caller's transaction.
 */
export function expireLeases(
  statements: Statements,
  options: MaintenanceOptions,
  changes: Changes,
): number {
  const now = changes.now;
  const rows = statements.expiredLeases.all(now);

  for (const row of rows) {
    const losses = row.lease_losses + 1;

    if (row.cancel_requested !== 0) {
      const error = encodeError({
        name: "TaskCancelledError",
        message: "cancelled while running; its worker stopped heartbeating before it ended",
      });
      statements.finishLost.run("cancelled", now, now, error, row.seq);
      changes.event(row, "cancelled", error);
      changes.finished.push(row.id);
      continue;
    }

    const lost: TaskErrorInfo = {
      name: "WorkerLostError",
      message: `the worker holding attempt ${row.attempts} stopped heartbeating (lease lost ${losses} time(s), limit ${options.maxLeaseLosses})`,
    };
    const error = encodeError(lost);
    if (losses >= options.maxLeaseLosses) {
      statements.finishLost.run("failed", now, now, error, row.seq);
      changes.event(row, "error", error);
      changes.finished.push(row.id);
    } else {
      statements.requeueLost.run(row.seq);
      changes.event(row, "retry", error, now);
      changes.readyQueues.add(row.queue);
    }
  }
  return rows.length;
}

/** Step 2 of `maintain`: waiting tasks past their time-to-live become `expired`. */
export function expireWaiting(statements: Statements, changes: Changes): number {
  const now = changes.now;
  const rows = statements.expireWaiting.all(now, now, now);

  for (const row of rows) {
    changes.event(row, "expired");
    changes.finished.push(row.id);
  }
  return rows.length;
}

/**
 * Steps 3 and 4 of `maintain`: deletes in chunks of `PURGE_CHUNK`, each in a
 * transaction of its own (`deleteChunk` opens it), so other processes can
 * write between chunks. Returns the number of rows deleted.
 */
export function deleteInChunks(deleteChunk: (limit: number) => number): number {
  let total = 0;
  for (;;) {
    const deleted = deleteChunk(PURGE_CHUNK);
    total += deleted;
    if (deleted < PURGE_CHUNK) return total;
  }
}

/**
 * The seq of the oldest event to keep: the first one newer than `cutoff`,
 * or one past the newest when all are older.
 *
 * Events are deleted from the head of the log up to there. The log is in
 * time order as long as the writers' clocks agree; an event stored with an
 * earlier time than one before it (clocks of two processes apart, or one
 * set back) waits for the head to reach it, and goes one round later.
 */
export function firstLiveEvent(statements: Statements, cutoff: number): number {
  const live = statements.firstLiveEvent.get(cutoff);
  if (live !== undefined) return live.seq;
  return (statements.lastEventSeq.get()?.seq ?? 0) + 1;
}

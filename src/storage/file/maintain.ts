// Housekeeping, in the contract's order. Each step commits before the next,
// so a task handed back in step 1 can expire in step 2, as in the memory
// backend. A task whose marker another process holds is left for the next
// pass: that process is changing it right now.
import { rmdirSync } from "node:fs";
import { join } from "node:path";
import type { TaskRecord } from "../../task/record.js";
import { isFinal, isWaiting } from "../../task/state.js";
import type { MaintenanceOptions, MaintenanceReport } from "../contract.js";
import { ChangeSet, type Held } from "./changes.js";
import { listNames } from "./fs-sync.js";
import { doneBucketOf, parseDoneName } from "./names.js";
import type { StoredTask } from "./records.js";
import { recoverAbandoned } from "./recovery.js";
import type { FileStore } from "./store.js";

export function maintain(store: FileStore, options: MaintenanceOptions): MaintenanceReport {
  const now = store.clock.now();
  recoverAbandoned(store);

  const report: MaintenanceReport = {
    leasesExpired: inChangeSet(store, now, (c) => expireLeases(store, c, options.maxLeaseLosses)),
    tasksExpired: inChangeSet(store, now, (c) => expireWaiting(store, c)),
    resultsDeleted: inChangeSet(store, now, (c) => deleteFinished(store, c)),
    eventsDeleted: store.log.prune((event) => event.at + options.eventTtlMs <= now),
  };
  store.signals.trim();
  store.ready.trim();
  return report;
}

function inChangeSet(store: FileStore, now: number, step: (changes: ChangeSet) => number): number {
  const changes = new ChangeSet(store, now);
  try {
    const count = step(changes);
    changes.commit();
    return count;
  } catch (error) {
    changes.abort();
    throw error;
  }
}

/** Running tasks whose lease ran out: cancelled, failed or handed back. */
function expireLeases(store: FileStore, changes: ChangeSet, maxLeaseLosses: number): number {
  const lapsed = (stored: StoredTask | null) =>
    stored?.task.state === "running" && (stored.task.leaseExpiresAt ?? Infinity) <= changes.now;
  let count = 0;

  for (const idName of listNames(store.layout.running)) {
    // Read first, so that live leases are not taken even for a moment.
    if (!lapsed(store.records.read(idName))) continue;
    const held = changes.hold(store.layout.runningMarker(idName), idName);
    if (!held) continue;

    const fresh = store.records.read(idName);
    if (!lapsed(fresh)) {
      changes.keep(held, fresh);
      continue;
    }
    loseLease(changes, held, fresh as StoredTask, maxLeaseLosses);
    count += 1;
  }
  return count;
}

function loseLease(changes: ChangeSet, held: Held, stored: StoredTask, maxLeaseLosses: number) {
  const now = changes.now;
  const task: TaskRecord = {
    ...stored.task,
    leaseLosses: stored.task.leaseLosses + 1,
    leaseOwner: null,
    leaseExpiresAt: null,
  };

  if (task.cancelRequested || task.leaseLosses >= maxLeaseLosses) {
    const error = task.cancelRequested
      ? { name: "TaskCancelledError", message: stored.cancelReason ?? "cancelled" }
      : {
          name: "WorkerLostError",
          message: `the task lost its worker ${task.leaseLosses} times (no heartbeat before its lease ran out)`,
        };
    task.state = task.cancelRequested ? "cancelled" : "failed";
    task.finishedAt = now;
    task.lastError = error;
    changes.event(task, task.cancelRequested ? "cancelled" : "error", { error: { ...error } });
    changes.finishedTask(task.id);
  } else {
    // Back to waiting at once; the lost attempt stays counted in `attempts`.
    const error = {
      name: "WorkerLostError",
      message: "the worker holding the task stopped heartbeating; its lease ran out",
    };
    task.state = "pending";
    changes.event(task, "retry", { error, runAt: now });
    changes.readyQueue(task.queue);
  }
  changes.write(held, { ...stored, task });
}

/** Waiting tasks whose time-to-live passed, found by the expiry in their markers' names. */
function expireWaiting(store: FileStore, changes: ChangeSet): number {
  let count = 0;
  for (const queueName of store.ready.queueNames()) {
    const listing = store.ready.listing(queueName);
    for (const entry of listing.waiting()) {
      if (entry.expiresAt === null || entry.expiresAt > changes.now) continue;
      listing.drop(entry);
      const held = changes.hold(listing.path(entry), entry.idName);
      if (!held) continue;

      const fresh = store.records.read(entry.idName);
      const expiresAt = fresh?.task.expiresAt ?? null;
      if (!fresh || !isWaiting(fresh.task.state) || expiresAt === null || expiresAt > changes.now) {
        changes.keep(held, fresh);
        continue;
      }

      const task: TaskRecord = { ...fresh.task, state: "expired", finishedAt: changes.now };
      changes.write(held, { ...fresh, task });
      changes.event(task, "expired");
      changes.finishedTask(task.id);
      count += 1;
    }
  }
  return count;
}

/** Finished tasks past their result time-to-live: deleted, their events kept. */
function deleteFinished(store: FileStore, changes: ChangeSet): number {
  const nowBucket = doneBucketOf(changes.now);
  let count = 0;

  for (const bucket of listNames(store.layout.done).sort()) {
    if (bucket > nowBucket) break;
    const dir = join(store.layout.done, bucket);
    for (const name of listNames(dir)) {
      const parsed = parseDoneName(name);
      if (!parsed || parsed.deleteAt > changes.now) continue;
      const held = changes.hold(join(dir, name), parsed.idName);
      if (!held) continue;

      const fresh = store.records.read(parsed.idName);
      const task = fresh?.task;
      if (
        !task ||
        !isFinal(task.state) ||
        (task.finishedAt ?? 0) + task.resultTtlMs > changes.now
      ) {
        changes.keep(held, fresh);
        continue;
      }
      changes.remove(held, fresh);
      count += 1;
    }
    if (bucket < nowBucket) removeIfEmpty(dir);
  }
  return count;
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty, or gone: either way nothing to do.
  }
}

// The steps a worker takes on a task it holds: settle, release, heartbeat.
// Each takes the task's marker from `running/`, which fails for a lease no
// longer current, so the token check and the change are one step.
import type { TaskRecord } from "../../task/record.js";
import type { HeartbeatReply, Lease, Settlement } from "../contract.js";
import type { ChangeSet } from "./changes.js";
import { BUSY, holdLeased } from "./held-task.js";
import type { StoredTask } from "./records.js";
import type { FileStore } from "./store.js";

/** Ends one attempt; false for a lease no longer current. */
export function trySettle(
  store: FileStore,
  changes: ChangeSet,
  settlement: Settlement,
): boolean | typeof BUSY {
  const found = holdLeased(store, changes, settlement);
  if (found === null || found === BUSY) return found === BUSY ? BUSY : false;

  const { held, stored } = found;
  const task: TaskRecord = { ...stored.task, leaseOwner: null, leaseExpiresAt: null };
  const next: StoredTask = { ...stored, task };
  applySettlement(changes, next, settlement);
  changes.write(held, next);
  return true;
}

function applySettlement(changes: ChangeSet, next: StoredTask, settlement: Settlement): void {
  const { task } = next;
  if (settlement.outcome === "completed") {
    task.state = "completed";
    task.finishedAt = changes.now;
    next.result = settlement.result;
    changes.event(task, "completed");
    changes.finishedTask(task.id);
    return;
  }

  task.lastError = { ...settlement.error };
  if (settlement.outcome === "cancelled") {
    task.state = "cancelled";
    task.finishedAt = changes.now;
    changes.event(task, "cancelled", { error: { ...settlement.error } });
    changes.finishedTask(task.id);
    return;
  }

  changes.event(task, "error", { error: { ...settlement.error } });
  if (settlement.retryAt === null) {
    task.state = "failed";
    task.finishedAt = changes.now;
    changes.finishedTask(task.id);
    return;
  }
  task.state = "retrying";
  task.runAt = settlement.retryAt;
  changes.event(task, "retry", { runAt: settlement.retryAt });
  changes.readyQueue(task.queue);
}

/** Hands a held task back untouched: pending again at once, the attempt not counted. */
export function tryRelease(
  store: FileStore,
  changes: ChangeSet,
  lease: Lease,
): boolean | typeof BUSY {
  const found = holdLeased(store, changes, lease);
  if (found === null || found === BUSY) return found === BUSY ? BUSY : false;

  // The token stays raised, so the lease just handed back can never settle the task.
  const { held, stored } = found;
  const task: TaskRecord = {
    ...stored.task,
    state: "pending",
    attempts: stored.task.attempts - 1,
    leaseOwner: null,
    leaseExpiresAt: null,
  };
  changes.write(held, { ...stored, task });
  changes.readyQueue(task.queue);
  return true;
}

/** Extends one lease; records in `reply` a lease that is lost or asked to cancel. */
export function tryHeartbeat(
  store: FileStore,
  changes: ChangeSet,
  lease: Lease,
  leaseMs: number,
  reply: HeartbeatReply,
): boolean | typeof BUSY {
  const found = holdLeased(store, changes, lease);
  if (found === BUSY) return BUSY;
  if (found === null) {
    reply.lost.push(lease.id);
    return false;
  }

  const { held, stored } = found;
  const task: TaskRecord = { ...stored.task, leaseExpiresAt: changes.now + leaseMs };
  changes.write(held, { ...stored, task });
  if (task.cancelRequested) reply.cancelRequested.push(lease.id);
  return true;
}

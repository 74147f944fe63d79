// Moving blocked tasks on, and putting dead letters back to work. Both take
// the task's marker where its record says it rests (`blocked/`, `done/`),
// as cancel does, so they change a task only while no one else does.
import { isFinal, REQUEUEABLE_STATES } from "../../task/state.js";
import type { RequeueOutcome } from "../contract.js";
import { requeuedRecord } from "../shared/requeue.js";
import type { ChangeSet } from "./changes.js";
import { BUSY } from "./held-task.js";
import { encodeName } from "./names.js";
import type { StoredTask } from "./records.js";
import type { FileStore } from "./store.js";

/**
 * Moves a blocked task on to waiting, with a `ready` signal and no event;
 * false when it is not blocked (unknown, waiting, final).
 */
export function tryUnblock(
  store: FileStore,
  changes: ChangeSet,
  id: string,
): boolean | typeof BUSY {
  const idName = encodeName(id);
  const isBlocked = (stored: StoredTask | null) =>
    stored?.task.id === id && stored.task.state === "blocked";
  if (!isBlocked(store.records.read(idName))) return false;

  const held = changes.hold(store.layout.blockedMarker(idName), idName);
  if (!held) return isBlocked(store.records.read(idName)) ? BUSY : false;

  const fresh = store.records.read(idName);
  if (!fresh || !isBlocked(fresh)) {
    changes.keep(held, fresh);
    return false;
  }

  const state = fresh.task.runAt > changes.now ? "scheduled" : "pending";
  changes.write(held, { ...fresh, task: { ...fresh.task, state } });
  changes.readyQueue(fresh.task.queue);
  return true;
}

/** Puts a task that failed for good, was cancelled or expired back to `pending`, due now. */
export function tryRequeue(
  store: FileStore,
  changes: ChangeSet,
  id: string,
): RequeueOutcome | typeof BUSY {
  const idName = encodeName(id);
  let lastPath = "";

  for (;;) {
    const stored = store.records.read(idName);
    const refusal = requeueRefusal(stored, id);
    if (refusal !== null) return refusal;

    const { task, order } = stored as StoredTask;
    const path = store.layout.restingMarker(task, order, idName, encodeName(task.queue));
    const held = changes.hold(path, idName);
    if (!held) {
      // Not where the record said: it changed meanwhile, or someone holds it for a moment.
      if (path === lastPath) return BUSY;
      lastPath = path;
      continue;
    }

    const fresh = store.records.read(idName);
    const again = requeueRefusal(fresh, id);
    if (again !== null) {
      changes.keep(held, fresh);
      return again;
    }

    const { result: _result, cancelReason: _reason, ...kept } = fresh as StoredTask;
    const next = requeuedRecord(kept.task, changes.now);
    changes.write(held, { ...kept, task: next });
    changes.event(next, "requeued");
    changes.readyQueue(next.queue);
    return "requeued";
  }
}

/** Why a task cannot be requeued, or null when it can. */
function requeueRefusal(stored: StoredTask | null, id: string): RequeueOutcome | null {
  if (!stored || stored.task.id !== id) return "unknown";
  if (stored.task.state === "completed") return "completed";
  if (!isFinal(stored.task.state)) return "live";
  return REQUEUEABLE_STATES.includes(stored.task.state) ? null : "live";
}

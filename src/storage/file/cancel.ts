import type { TaskRecord } from "../../task/record.js";
import { isFinal, isWaiting } from "../../task/state.js";
import type { CancelOutcome } from "../contract.js";
import type { ChangeSet } from "./changes.js";
import { BUSY } from "./held-task.js";
import { encodeName } from "./names.js";
import type { FileStore } from "./store.js";

/**
 * Cancels a waiting or blocked task, or flags a running one for its worker. The marker
 * is looked for where the record says the task rests; when it is not there
 * the task changed meanwhile (looked at again at once) or another process
 * holds it for a moment (BUSY: the caller tries again shortly).
 */
export function tryCancel(
  store: FileStore,
  changes: ChangeSet,
  id: string,
  reason: string,
): CancelOutcome | typeof BUSY {
  const idName = encodeName(id);
  let lastPath = "";

  for (;;) {
    const stored = store.records.read(idName);
    if (!stored) return "unknown";
    if (isFinal(stored.task.state)) return "finished";

    const queueName = encodeName(stored.task.queue);
    const path = store.layout.restingMarker(stored.task, stored.order, idName, queueName);
    const held = changes.hold(path, idName);
    if (!held) {
      if (path === lastPath) return BUSY;
      lastPath = path;
      continue;
    }

    // Read again now that nobody else can change it.
    const fresh = store.records.read(idName);
    if (!fresh || isFinal(fresh.task.state)) {
      changes.keep(held, fresh);
      return fresh ? "finished" : "unknown";
    }

    // A blocked task waits too, for the tasks it depends on.
    if (isWaiting(fresh.task.state) || fresh.task.state === "blocked") {
      const error = { name: "TaskCancelledError", message: reason };
      const task: TaskRecord = {
        ...fresh.task,
        state: "cancelled",
        finishedAt: changes.now,
        lastError: error,
      };
      changes.write(held, { ...fresh, task });
      changes.event(task, "cancelled", { error: { ...error } });
      changes.finishedTask(task.id);
      return "cancelled";
    }

    // Running: its worker stops it and settles it; until then it stays running.
    changes.write(held, {
      ...fresh,
      task: { ...fresh.task, cancelRequested: true },
      cancelReason: reason,
    });
    changes.cancelRequested(id);
    return "requested";
  }
}

import type { Lease } from "../contract.js";
import type { ChangeSet, Held } from "./changes.js";
import { encodeName } from "./names.js";
import type { StoredTask } from "./records.js";
import type { FileStore } from "./store.js";

/** The answer of a step that found the task's marker held by another process for a moment. */
export const BUSY = Symbol("busy");

/** Whether a stored task is running under this lease's token. */
export function holdsLease(stored: StoredTask | null, lease: Lease): stored is StoredTask {
  return stored?.task.state === "running" && stored.task.token === lease.token;
}

/**
 * Takes the marker of a task leased under `lease`. Answers the held task and
 * its record; null when the lease is no longer current; BUSY when the lease
 * is current but another process holds the marker (a heartbeat, a cancel or
 * a maintenance pass, for a moment): the caller tries again shortly.
 */
export function holdLeased(
  store: FileStore,
  changes: ChangeSet,
  lease: Lease,
): { held: Held; stored: StoredTask } | null | typeof BUSY {
  const idName = encodeName(lease.id);
  const held = changes.hold(store.layout.runningMarker(idName), idName);
  if (!held) return holdsLease(store.records.read(idName), lease) ? BUSY : null;

  const stored = store.records.read(idName);
  if (!holdsLease(stored, lease)) {
    changes.keep(held, stored);
    return null;
  }
  return { held, stored };
}

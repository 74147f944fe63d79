// Claiming from a queue with a concurrency or rate limit. The queue's lock
// (`locks/queues/<queue>`) is held while its tasks are counted and claimed,
// so two claimers never both take the last free place:
//
// - concurrency: `active/<queue>/<id>` marks each task claimed under the
//   limit; counting reads the record behind each mark and removes marks of
//   tasks no longer running (settles need not know about marks, so their
//   path is unchanged). Setting a limit marks the queue's running tasks.
// - rate: `rate/<queue>` holds the current window's start and claims.
//
// One race is left open: a claim in another process that looked at the
// queue's controls just before a first limit was set, and leases its tasks
// just after that set marked the running ones, is not counted until those
// tasks end. It takes a claim and the set within microseconds of each other.
import { join } from "node:path";
import type { ClaimedTask } from "../../task/record.js";
import type { QueueControl } from "../contract.js";
import { createExclusive, listNames, readText, unlinkQuietly } from "./fs-sync.js";
import { withLock } from "./locks.js";
import { encodeName } from "./names.js";
import type { FileStore } from "./store.js";

/** Claims from one queue up to this many tasks in all (those already claimed included). */
export type ClaimUpTo = (until: number) => void;

/**
 * Claims from a controlled queue: nothing when paused, else no more than
 * its limits leave room for. `claimed` is the claim's list so far.
 */
export function claimUnderControl(
  store: FileStore,
  queueName: string,
  control: QueueControl,
  now: number,
  limit: number,
  claimed: readonly ClaimedTask[],
  claimUpTo: ClaimUpTo,
): void {
  if (control.paused) return;
  const { concurrency, rateLimit } = control;
  if (concurrency === null && rateLimit === null) {
    claimUpTo(limit);
    return;
  }

  withLock(store.locks.queue(queueName), () => {
    let room = limit - claimed.length;
    if (concurrency !== null) room = Math.min(room, concurrency - countActive(store, queueName));
    const window =
      rateLimit === null ? null : readWindow(store, queueName, rateLimit.intervalMs, now);
    if (rateLimit !== null && window !== null) room = Math.min(room, rateLimit.max - window.count);
    if (room <= 0) return;

    const before = claimed.length;
    claimUpTo(before + room);
    const taken = claimed.slice(before);
    if (taken.length === 0) return;

    if (concurrency !== null) for (const task of taken) markActive(store, queueName, task.id);
    if (window !== null) {
      const next = `${window.start} ${window.count + taken.length}`;
      store.layout.writeAtomically(store.layout.rateFile(queueName), next);
    }
  });
}

/**
 * Marks the queue's running tasks, when a concurrency limit is set: tasks
 * claimed before it count too. The caller holds the queue's lock.
 */
export function markRunning(store: FileStore, queueName: string): void {
  // Busy markers too: a running task is in `busy/` for the moment of a heartbeat.
  const idNames = new Set(listNames(store.layout.running));
  for (const name of listNames(store.layout.busy)) idNames.add(name.split("@")[0] as string);
  for (const name of listNames(store.layout.running)) idNames.add(name);

  for (const idName of idNames) {
    const task = store.records.read(idName)?.task;
    if (task?.state === "running" && encodeName(task.queue) === queueName) {
      markActive(store, queueName, task.id);
    }
  }
}

function markActive(store: FileStore, queueName: string, id: string): void {
  createExclusive(join(store.layout.activeDir(queueName), encodeName(id)), "");
}

/** The queue's marked tasks still running; marks of the others are removed. */
function countActive(store: FileStore, queueName: string): number {
  const dir = store.layout.activeDir(queueName);
  let count = 0;
  for (const idName of listNames(dir)) {
    const task = store.records.read(idName)?.task;
    if (task?.state === "running" && encodeName(task.queue) === queueName) count += 1;
    else unlinkQuietly(join(dir, idName));
  }
  return count;
}

/** The current window's start and the claims counted in it so far. */
function readWindow(
  store: FileStore,
  queueName: string,
  intervalMs: number,
  now: number,
): { start: number; count: number } {
  const start = Math.floor(now / intervalMs) * intervalMs;
  const [storedStart, storedCount] = (readText(store.layout.rateFile(queueName)) ?? "").split(" ");
  const count = Number(storedStart) === start ? Number(storedCount) || 0 : 0;
  return { start, count };
}

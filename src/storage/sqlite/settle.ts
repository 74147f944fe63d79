import type { TaskErrorInfo } from "../../task/record.js";
import { isWaiting, type TaskState } from "../../task/state.js";
import type { CancelOutcome, HeartbeatReply, Lease, Settlement } from "../contract.js";
import type { Changes } from "./changes.js";
import { encodeError } from "./rows.js";
import type { Statements } from "./statements.js";

/*
 * The writes that a lease holder makes, and cancellation. Each function runs
 * inside the caller's BEGIN IMMEDIATE transaction. Each write of a lease
 * holder applies only where the task has (id, token, state = 'running'), so
 * a worker whose lease was lost and taken by a newer claim changes nothing.
 * Completions check that inside their one UPDATE; the other writes find the
 * task first, and the write lock, held since BEGIN, keeps that answer true
 * until their UPDATE.
 */

type Completion = Extract<Settlement, { outcome: "completed" }>;

/**
 * Ends attempts; one boolean per settlement, true where it applied.
 * Completions, nearly all of any batch, go in one statement; failures and
 * cancellations one by one.
 */
export function settleTasks(
  statements: Statements,
  settlements: readonly Settlement[],
  changes: Changes,
): boolean[] {
  // The batch statement applies its rows in no set order, which matters only
  // when one task is named twice: then each settlement goes on its own, in order.
  if (namesATaskTwice(settlements)) {
    return settlements.map((settlement) => settleOne(statements, settlement, changes));
  }

  const completions = settlements.filter(isCompletion);
  const done = completions.length > 0 ? completeHeld(statements, completions, changes) : undefined;
  return settlements.map((settlement) => {
    if (settlement.outcome !== "completed") return settleOne(statements, settlement, changes);
    return done === undefined || done.has(settlement.id);
  });
}

function isCompletion(settlement: Settlement): settlement is Completion {
  return settlement.outcome === "completed";
}

function namesATaskTwice(settlements: readonly Settlement[]): boolean {
  if (settlements.length < 2) return false;
  const ids = new Set<string>();
  for (const { id } of settlements) ids.add(id);
  return ids.size < settlements.length;
}

/**
 * Completes the tasks of `completions` still held under their tokens, with
 * their events. Returns the ids it completed, or undefined when it completed
 * them all (the usual case, which then builds no set).
 */
function completeHeld(
  statements: Statements,
  completions: readonly Completion[],
  changes: Changes,
): Set<string> | undefined {
  const now = changes.now;
  const batch = JSON.stringify(completions.map(({ id, token, result }) => [id, token, result]));
  const seqs = statements.completeMany.all({ now, batch });
  if (seqs.length > 0) {
    changes.noteEvents(statements.insertEvents.run("completed", now, JSON.stringify(seqs)));
  }

  const done =
    seqs.length === completions.length
      ? undefined
      : new Set(statements.idsOf.all(JSON.stringify(seqs)));
  for (const { id, result } of completions) {
    if (done !== undefined && !done.has(id)) continue;
    changes.finished.push(id);
    changes.outcomes.set(id, { state: "completed", result });
  }
  return done;
}

function settleOne(statements: Statements, settlement: Settlement, changes: Changes): boolean {
  const { id, token } = settlement;
  const held = statements.held.get(id, token);
  if (held === undefined) return false;

  const [seq, queue, name, attempts] = held;
  const task = { seq, id, queue, name, attempts };
  const now = changes.now;

  if (settlement.outcome === "completed") {
    statements.finish.run("completed", now, now, settlement.result, null, seq);
    changes.event(task, "completed");
    changes.finished.push(id);
    changes.outcomes.set(id, { state: "completed", result: settlement.result });
    return true;
  }

  const error = encodeError(settlement.error);
  if (settlement.outcome === "failed" && settlement.retryAt !== null) {
    const retryAt = settlement.retryAt;
    statements.retry.run(retryAt, retryAt <= now ? 1 : 0, error, seq);
    changes.event(task, "error", error);
    changes.event(task, "retry", null, retryAt);
    changes.readyQueues.add(queue);
    return true;
  }

  // Failed for good, or cancelled by its own worker.
  const failed = settlement.outcome === "failed";
  statements.finish.run(failed ? "failed" : "cancelled", now, now, null, error, seq);
  changes.event(task, failed ? "error" : "cancelled", error);
  changes.finished.push(id);
  changes.outcomes.set(id, { state: failed ? "failed" : "cancelled", error: settlement.error });
  return true;
}

/** Renews the leases still held; reports the lost ones and those asked to cancel. */
export function renewLeases(
  statements: Statements,
  leases: readonly Lease[],
  leaseMs: number,
  now: number,
): HeartbeatReply {
  const reply: HeartbeatReply = { lost: [], cancelRequested: [] };
  const leaseExpiresAt = now + leaseMs;

  for (const { id, token } of leases) {
    const held = statements.held.get(id, token);
    if (held === undefined) {
      reply.lost.push(id);
      continue;
    }
    statements.renew.run(leaseExpiresAt, held[0]);
    if (held[4] !== 0) reply.cancelRequested.push(id);
  }
  return reply;
}

/** Puts held tasks back to `pending`, the attempt not counted. */
export function releaseTasks(
  statements: Statements,
  leases: readonly Lease[],
  changes: Changes,
): void {
  for (const { id, token } of leases) {
    const held = statements.held.get(id, token);
    if (held === undefined) continue;
    statements.release.run(held[0]);
    changes.readyQueues.add(held[1]);
  }
}

/** Cancels a waiting or blocked task at once, or flags a running one for its worker. */
export function cancelTask(
  statements: Statements,
  id: string,
  reason: string,
  changes: Changes,
): CancelOutcome {
  const row = statements.lookup.get(id);
  if (row === undefined) return "unknown";

  const state = row.state as TaskState;
  if (isWaiting(state) || state === "blocked") {
    const info: TaskErrorInfo = { name: "TaskCancelledError", message: reason };
    const error = encodeError(info);
    statements.cancelWaiting.run(changes.now, changes.now, error, row.seq);
    changes.event(row, "cancelled", error);
    changes.finished.push(id);
    return "cancelled";
  }

  if (state === "running") {
    statements.requestCancel.run(row.seq);
    changes.cancels.push(id);
    return "requested";
  }
  return "finished";
}

import type { ClaimedTask } from "../../task/record.js";
import type { WorkerType } from "../../task/state.js";
import type { ClaimRequest } from "../contract.js";
import type { Changes } from "./changes.js";
import { AT, type TaskTuple, toTaskRecord } from "./rows.js";
import type { Statements } from "./statements.js";

/**
 * Claims up to `request.limit` due tasks. Runs inside the caller's
 * `BEGIN IMMEDIATE` transaction, so no other connection can pick the same
 * rows between the SELECT and the UPDATE.
 */
export function claimTasks(
  statements: Statements,
  request: ClaimRequest,
  changes: Changes,
): ClaimedTask[] {
  const now = changes.now;
  const leaseExpiresAt = now + request.leaseMs;
  const claimed: ClaimedTask[] = [];

  // Tasks scheduled for later sit outside the claim index until their time
  // comes; this moves the ones now due in, through an index on run_at.
  statements.promoteDue.run(now);

  // Strict queue order: a later queue is read only for what is left.
  for (const queue of request.queues) {
    const room = request.limit - claimed.length;
    if (room <= 0) break;

    for (const row of pickCandidates(statements, queue, request.workers, now, room)) {
      statements.claimOne.run(request.owner, leaseExpiresAt, now, row[AT.seq]);

      // The record as the UPDATE left it, built here instead of read back.
      const task = toTaskRecord(row) as ClaimedTask;
      task.state = "running";
      task.attempts += 1;
      task.token += 1;
      task.leaseOwner = request.owner;
      task.leaseExpiresAt = leaseExpiresAt;
      task.startedAt = now;

      const { id, name, attempts } = task;
      changes.event({ seq: row[AT.seq], id, queue, name, attempts }, "executing");
      claimed.push(task);
    }
  }
  return claimed;
}

/** The next `limit` due tasks of one queue, in claim order. */
function pickCandidates(
  statements: Statements,
  queue: string,
  workers: readonly WorkerType[],
  now: number,
  limit: number,
): TaskTuple[] {
  // The ready index is ordered within one (queue, worker) pair, so one worker
  // type is a single index range that stops after `limit` rows.
  if (workers.length === 1) {
    return statements.candidates.all(queue, workers[0] as string, now, now, limit);
  }

  // Several worker types: the best `limit` of each range, merged.
  const rows: TaskTuple[] = [];
  for (const worker of new Set(workers)) {
    rows.push(...statements.candidates.all(queue, worker, now, now, limit));
  }
  rows.sort(claimOrder);
  return rows.slice(0, limit);
}

/** Priority descending, then run-at, then enqueue order. */
function claimOrder(a: TaskTuple, b: TaskTuple): number {
  return b[AT.priority] - a[AT.priority] || a[AT.runAt] - b[AT.runAt] || a[AT.seq] - b[AT.seq];
}

import type { ClaimedTask } from "../../task/record.js";
import type { WorkerType } from "../../task/state.js";
import type { ClaimRequest } from "../contract.js";
import {
  AT,
  type CandidateTuple,
  type FoundIn,
  type LeaseGrant,
  toClaimedTask,
} from "./candidates.js";
import type { Changes } from "./changes.js";
import type { QueueControls } from "./controls.js";
import type { Statements } from "./statements.js";

/**
 * Claims up to `request.limit` due tasks, within the queues' controls. Runs
 * inside the caller's `BEGIN IMMEDIATE` transaction, so no other connection
 * can pick the same rows between the SELECT and the UPDATE, nor claim from
 * a limited queue between the count and the claim.
 */
export function claimTasks(
  statements: Statements,
  controls: QueueControls,
  request: ClaimRequest,
  changes: Changes,
): ClaimedTask[] {
  const now = changes.now;
  const lease: LeaseGrant = { owner: request.owner, expiresAt: now + request.leaseMs, now };
  const claimed: ClaimedTask[] = [];
  const seqs: number[] = [];

  // Tasks scheduled for later sit outside the claim index until their time
  // comes; this moves the ones now due in, through an index on run_at.
  statements.promoteDue.run(now);
  const inForce = controls.inForce();

  // Strict queue order: a later queue is read only for what is left, and a
  // queue its controls hold back gives its turn to the next.
  for (const queue of request.queues) {
    let room = request.limit - claimed.length;
    if (room <= 0) break;

    const control = inForce?.get(queue);
    if (control !== undefined) {
      room = controls.room(queue, control, room, now);
      if (room <= 0) continue;
    }

    const before = claimed.length;
    pickCandidates(statements, queue, request.workers, now, room, (row, found) => {
      seqs.push(row[AT.seq]);
      claimed.push(toClaimedTask(row, found, lease));
    });
    if (control?.rateLimit) {
      controls.noteClaims(queue, control.rateLimit, claimed.length - before, now);
    }
  }
  if (seqs.length === 0) return claimed;

  // One UPDATE and one INSERT of events for the whole batch, in claim order.
  const list = JSON.stringify(seqs);
  statements.claimMany.run(lease.owner, lease.expiresAt, now, list);
  changes.noteEvents(statements.insertEvents.run("executing", now, list));
  return claimed;
}

/**
 * Hands `take` the next `limit` due tasks of one queue, in claim order, with where each was found.
 */
function pickCandidates(
  statements: Statements,
  queue: string,
  workers: readonly WorkerType[],
  now: number,
  limit: number,
  take: (row: CandidateTuple, found: FoundIn) => void,
): void {
  // The ready index is ordered within one (queue, worker) pair, so one worker
  // type is a single index range that stops after `limit` rows.
  if (workers.length === 1) {
    const found: FoundIn = { queue, worker: workers[0] as WorkerType };
    for (const row of statements.candidates.all(queue, found.worker, now, now, limit)) {
      take(row, found);
    }
    return;
  }

  // Several worker types: the best `limit` of each range, merged.
  const rows: Array<[CandidateTuple, FoundIn]> = [];
  for (const worker of new Set(workers)) {
    const found: FoundIn = { queue, worker };
    for (const row of statements.candidates.all(queue, worker, now, now, limit)) {
      rows.push([row, found]);
    }
  }
  rows.sort(([a], [b]) => claimOrder(a, b));
  for (const [row, found] of rows.slice(0, limit)) take(row, found);
}

/** Priority descending, then run-at, then enqueue order. */
function claimOrder(a: CandidateTuple, b: CandidateTuple): number {
  return b[AT.priority] - a[AT.priority] || a[AT.runAt] - b[AT.runAt] || a[AT.seq] - b[AT.seq];
}

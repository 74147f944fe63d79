import type { TaskRecord } from "../../task/record.js";
import type { WorkerType } from "../../task/state.js";
import { Heap } from "./heap.js";

/** What the index keeps of a waiting task: the fields claims sort and filter on. */
interface Entry {
  id: string;
  priority: number;
  runAt: number;
  expiresAt: number | null;
  /** Enqueue position, for FIFO among equals. */
  order: number;
}

/** Claim order within a queue: priority descending, then run-at, then enqueue order. */
function claimsFirst(a: Entry, b: Entry): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.runAt !== b.runAt) return a.runAt < b.runAt;
  return a.order < b.order;
}

function dueFirst(a: Entry, b: Entry): boolean {
  return a.runAt !== b.runAt ? a.runAt < b.runAt : a.order < b.order;
}

/**
 * The waiting tasks of one queue for one worker type. Tasks whose run-at time
 * is still to come sit in `later`, ordered by time; a claim first moves the
 * ones that have come due into `due`, ordered as claims take them. So a claim
 * never looks at tasks that are not due yet.
 */
class Lane {
  readonly later = new Heap<Entry>(dueFirst);
  readonly due = new Heap<Entry>(claimsFirst);

  promote(now: number): void {
    for (let next = this.later.peek(); next && next.runAt <= now; next = this.later.peek()) {
      this.later.pop();
      this.due.push(next);
    }
  }
}

/**
 * Which waiting tasks a claim may take, in the order it takes them. Removal
 * is lazy: `remove` forgets a task's current entry, and a heap entry that is
 * no longer current is dropped when it reaches the top.
 */
export class WaitingIndex {
  private readonly lanes = new Map<string, Map<WorkerType, Lane>>();
  private readonly current = new Map<string, Entry>();

  /** Makes a waiting task claimable (again); replaces any entry it had. */
  add(record: TaskRecord, order: number): void {
    const { id, priority, runAt, expiresAt } = record;
    const entry: Entry = { id, priority, runAt, expiresAt, order };
    this.current.set(id, entry);
    this.lane(record.queue, record.worker).later.push(entry);
  }

  /** The task left the waiting states (cancelled, expired, deleted). */
  remove(id: string): void {
    this.current.delete(id);
  }

  /** Takes the ids of up to `limit` due tasks of `queue` for `workers`, best first. */
  take(queue: string, workers: readonly WorkerType[], now: number, limit: number): string[] {
    const byWorker = this.lanes.get(queue);
    const lanes: Lane[] = [];
    for (const worker of new Set(workers)) {
      const lane = byWorker?.get(worker);
      if (lane) lanes.push(lane);
    }
    for (const lane of lanes) lane.promote(now);

    const taken: string[] = [];
    while (taken.length < limit) {
      const best = this.bestLane(lanes, now);
      const entry = best?.due.pop();
      if (!entry) break;

      this.current.delete(entry.id);
      taken.push(entry.id);
    }
    return taken;
  }

  /** The lane whose head is claimed next, after clearing stale and expired heads. */
  private bestLane(lanes: readonly Lane[], now: number): Lane | undefined {
    let best: Lane | undefined;
    let bestHead: Entry | undefined;
    for (const lane of lanes) {
      const head = this.claimableHead(lane, now);
      if (head && (!bestHead || claimsFirst(head, bestHead))) {
        best = lane;
        bestHead = head;
      }
    }
    return best;
  }

  private claimableHead(lane: Lane, now: number): Entry | undefined {
    for (let head = lane.due.peek(); head; head = lane.due.peek()) {
      const stale = this.current.get(head.id) !== head;
      // Time does not go back, so a task past its time-to-live can never be
      // claimed again: it leaves the heap and waits for `maintain` to expire it.
      const expired = head.expiresAt !== null && head.expiresAt <= now;
      if (!stale && !expired) return head;
      lane.due.pop();
    }
    return undefined;
  }

  private lane(queue: string, worker: WorkerType): Lane {
    let byWorker = this.lanes.get(queue);
    if (!byWorker) {
      byWorker = new Map();
      this.lanes.set(queue, byWorker);
    }
    let lane = byWorker.get(worker);
    if (!lane) {
      lane = new Lane();
      byWorker.set(worker, lane);
    }
    return lane;
  }
}

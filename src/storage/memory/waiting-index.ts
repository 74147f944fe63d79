import type { WorkerType } from "../../task/state.js";
import { SortedChunks } from "../shared/sorted-chunks.js";
import { Heap } from "./heap.js";
import type { Slot } from "./store.js";

/** What the index keeps of a waiting task: the fields claims sort and filter on. */
interface Entry {
  slot: Slot;
  priority: number;
  runAt: number;
  expiresAt: number | null;
  /** Enqueue position, for FIFO among equals. */
  order: number;
  /**
   * Unique to this entry: a task added again gets a new entry, which sorts apart from its stale
   * one.
   */
  serial: number;
}

let serials = 0;

/** Claim order within a queue: priority descending, then run-at, then enqueue order. */
function claimOrder(a: Entry, b: Entry): number {
  return b.priority - a.priority || a.runAt - b.runAt || a.order - b.order || a.serial - b.serial;
}

function claimsFirst(a: Entry, b: Entry): boolean {
  return claimOrder(a, b) < 0;
}

function dueFirst(a: Entry, b: Entry): boolean {
  return a.runAt !== b.runAt ? a.runAt < b.runAt : a.order < b.order;
}

/**
 * The waiting tasks of one queue for one worker type. Tasks whose run-at time
 * is still to come sit in `later`, ordered by time; a claim first moves the
 * ones that have come due into `due`, ordered as claims take them. So a claim
 * never looks at tasks that are not due yet.
 *
 * `due` is a sorted list in chunks rather than a heap: due tasks mostly come
 * in claim order, so adding is an append and taking is a shift from a small
 * array. A heap's pop walks twenty levels of a million-entry array, each a
 * cache miss: claims at that depth ran at a third of the rate at 1,000.
 */
class Lane {
  readonly later = new Heap<Entry>(dueFirst);
  readonly due = new SortedChunks<Entry>(claimOrder);

  promote(now: number): void {
    for (let next = this.later.peek(); next && next.runAt <= now; next = this.later.peek()) {
      this.later.pop();
      this.due.add(next);
    }
  }
}

/**
 * Which waiting tasks a claim may take, in the order it takes them. Removal
 * is lazy: `remove` forgets a task's current entry (kept on its slot, not in
 * a map: at a million tasks each map lookup is a few cache misses), and an
 * entry that is no longer current is dropped when it reaches the front.
 */
export class WaitingIndex {
  private readonly lanes = new Map<string, Map<WorkerType, Lane>>();

  /** Makes a waiting task claimable (again); replaces any entry it had. */
  add(slot: Slot): void {
    const { priority, runAt, expiresAt, queue, worker } = slot.record;
    serials += 1;
    const entry: Entry = { slot, priority, runAt, expiresAt, order: slot.order, serial: serials };
    slot.entry = entry;
    this.lane(queue, worker).later.push(entry);
  }

  /** The task left the waiting states (cancelled, expired, deleted). */
  remove(slot: Slot): void {
    slot.entry = null;
  }

  /** Takes up to `limit` due tasks of `queue` for `workers`, best first. */
  take(queue: string, workers: readonly WorkerType[], now: number, limit: number): Slot[] {
    const byWorker = this.lanes.get(queue);
    const lanes: Lane[] = [];
    for (const worker of new Set(workers)) {
      const lane = byWorker?.get(worker);
      if (lane) lanes.push(lane);
    }
    for (const lane of lanes) lane.promote(now);

    const taken: Slot[] = [];
    while (taken.length < limit) {
      const best = this.bestLane(lanes, now);
      const entry = best?.due.shift();
      if (!entry) break;

      entry.slot.entry = null;
      taken.push(entry.slot);
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
    for (let head = lane.due.first(); head; head = lane.due.first()) {
      const stale = head.slot.entry !== head;
      // Time does not go back, so a task past its time-to-live can never be
      // claimed again: it leaves the heap and waits for `maintain` to expire it.
      const expired = head.expiresAt !== null && head.expiresAt <= now;
      if (!stale && !expired) return head;
      lane.due.shift();
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

// Waiting tasks in claim order: per queue and worker type, per priority
// (highest first), a list sorted by run-at time and then enqueue order.
// Claims read the front of each list and stop at the first task not yet
// due, so a claim costs about as much as what it takes, not as much as what
// waits (tasks for other worker types sit in lists of their own).
import type { WorkerType } from "../../task/state.js";
import { SortedChunks } from "../shared/sorted-chunks.js";
import type { IndexEntry } from "./index-entries.js";

type Lane = SortedChunks<IndexEntry>;

interface QueueLanes {
  /** Priorities present, highest first. */
  priorities: number[];
  lanes: Map<number, Lane>;
}

function compare(a: IndexEntry, b: IndexEntry): number {
  return a.runAt - b.runAt || a.order - b.order || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Claim order: higher priority, then earlier run-at time, then enqueue order. */
function claimOrder(a: IndexEntry, b: IndexEntry): number {
  return b.priority - a.priority || compare(a, b);
}

const groupOf = (queue: string, worker: WorkerType) => `${worker}\u0000${queue}`;

export class WaitingLanes {
  private readonly queues = new Map<string, QueueLanes>();

  add(entry: IndexEntry): void {
    const group = groupOf(entry.queue, entry.worker);
    let queue = this.queues.get(group);
    if (!queue) {
      queue = { priorities: [], lanes: new Map() };
      this.queues.set(group, queue);
    }

    let lane = queue.lanes.get(entry.priority);
    if (!lane) {
      lane = new SortedChunks(compare);
      queue.lanes.set(entry.priority, lane);
      queue.priorities.push(entry.priority);
      queue.priorities.sort((a, b) => b - a);
    }
    lane.add(entry);
  }

  /** Removes an entry added earlier (found by the same sort fields). */
  remove(entry: IndexEntry): void {
    const group = groupOf(entry.queue, entry.worker);
    const queue = this.queues.get(group);
    const lane = queue?.lanes.get(entry.priority);
    if (!queue || !lane) return;

    if (!lane.remove(entry, (stored) => stored.key === entry.key)) return;

    if (lane.size === 0) {
      queue.lanes.delete(entry.priority);
      queue.priorities = queue.priorities.filter((p) => p !== entry.priority);
      if (queue.priorities.length === 0) this.queues.delete(group);
    }
  }

  /** Waiting entries of `queue` for any of `workers` whose run-at time has come, in claim order. */
  *due(queue: string, workers: readonly WorkerType[], now: number): Generator<IndexEntry> {
    // One ordered stream per worker type, merged: at most four, so a linear pick is enough.
    const streams = [...new Set(workers)].map((worker) => this.dueFor(queue, worker, now));
    const heads = streams.map((stream) => stream.next());
    for (;;) {
      let best: number | null = null;
      for (let i = 0; i < heads.length; i += 1) {
        const head = heads[i];
        if (!head || head.done) continue;
        const leader = best === null ? undefined : heads[best];
        if (!leader || leader.done || claimOrder(head.value, leader.value) < 0) best = i;
      }
      if (best === null) return;

      yield (heads[best] as IteratorYieldResult<IndexEntry>).value;
      heads[best] = (streams[best] as Generator<IndexEntry>).next();
    }
  }

  private *dueFor(queue: string, worker: WorkerType, now: number): Generator<IndexEntry> {
    const lanes = this.queues.get(groupOf(queue, worker));
    if (!lanes) return;

    for (const priority of [...lanes.priorities]) {
      for (const entry of lanes.lanes.get(priority) ?? []) {
        if (entry.runAt > now) break;
        yield entry;
      }
    }
  }
}

import type { ClaimedTask } from "../../task/record.js";
import type { Lease } from "../contract.js";

/**
 * How long an offer stands after a claim that found nothing, in the clock's
 * ms: longer than a worker's usual poll (200 ms), so that an idle worker
 * renews it before it lapses.
 */
export const OFFER_MS = 1_000;

/** Handed-over tasks that no claim takes within this many ms are handed back. */
export const HOLD_MS = 1_000;

interface Held {
  task: ClaimedTask;
  since: number;
}

/**
 * Tasks that enqueues leased to this handle's waiting claims ("offers": a
 * claim that found nothing leaves one for a short while, and an enqueue
 * that makes a task ready for it leases the task to the claim's owner in
 * the same atomic step), kept until the owner's next claim takes them: that
 * claim needs no round trip. A handover also wakes the owner with a ready
 * signal for each queue it brings. Tasks nobody takes in time go back to
 * their queues, so a worker that stopped meanwhile strands nothing.
 *
 * How an offer is stored and how a handover travels is the backend's own:
 * see redis/scripts/offers.ts and postgres/sql/handover.ts.
 */
export class Handovers {
  private readonly held = new Map<string, Held[]>();
  /** Owners whose last claim found nothing: an offer of theirs may stand. */
  private readonly offering = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param announce - wakes this handle's subscribers: a task of `queue` was handed over.
   * @param giveBack - returns tasks nobody took to their queues.
   */
  constructor(
    private readonly announce: (queue: string) => void,
    private readonly giveBack: (leases: Lease[]) => Promise<void>,
  ) {}

  /** Keeps tasks handed to `owner` and wakes it, once per queue they came from. */
  hand(owner: string, tasks: readonly ClaimedTask[]): void {
    this.keep(owner, tasks);
    for (const queue of new Set(tasks.map((task) => task.queue))) this.announce(queue);
  }

  /** True when tasks handed to `owner` wait here. */
  has(owner: string): boolean {
    return this.held.has(owner);
  }

  /** Keeps tasks leased to `owner` behind those already kept, for its next claims. */
  keep(owner: string, tasks: readonly ClaimedTask[]): void {
    if (tasks.length === 0) return;
    const list = this.held.get(owner) ?? [];
    const since = Date.now();
    for (const task of tasks) list.push({ task, since });
    this.held.set(owner, list);
    this.arm();
  }

  /** Up to `limit` of the tasks handed to `owner`, oldest first, taken out of keeping. */
  take(owner: string, limit: number): ClaimedTask[] {
    const list = this.held.get(owner);
    if (!list) return [];
    const taken = list.splice(0, limit);
    if (list.length === 0) this.held.delete(owner);
    return taken.map((entry) => entry.task);
  }

  /** True when an offer of `owner`'s may stand, so its next claim withdraws it first. */
  mayBeOffering(owner: string): boolean {
    return this.offering.has(owner);
  }

  /** Notes what a claim of `owner`'s left behind: an offer when it found nothing. */
  claimed(owner: string, found: number): void {
    if (found === 0) this.offering.add(owner);
    else this.offering.delete(owner);
  }

  /** Owners that may have an offer standing, for withdrawing them on close. */
  offeringOwners(): string[] {
    return [...this.offering];
  }

  /** Takes out everything still kept, as leases: for a handle that closes. */
  takeAll(): Lease[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.expire(Infinity);
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const leases = this.expire(Date.now() - HOLD_MS);
      // A failed hand-back leaves the leases to run out; maintain returns the tasks.
      if (leases.length > 0) this.giveBack(leases).catch(() => {});
      if (this.held.size > 0) this.arm();
    }, HOLD_MS);
    this.timer.unref();
  }

  /** Takes out the tasks kept since `before` or earlier, as leases. */
  private expire(before: number): Lease[] {
    const leases: Lease[] = [];
    for (const [owner, list] of this.held) {
      const keep: Held[] = [];
      for (const entry of list) {
        if (entry.since > before) keep.push(entry);
        else leases.push({ id: entry.task.id, token: entry.task.token });
      }
      if (keep.length === 0) this.held.delete(owner);
      else this.held.set(owner, keep);
    }
    return leases;
  }
}

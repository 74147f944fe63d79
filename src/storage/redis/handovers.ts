import type { ClaimedTask } from "../../task/record.js";
import type { Lease } from "../contract.js";
import { type ClaimedEntry, claimedRecord } from "./hash.js";
import type { SignalHub } from "./signals.js";

/**
 * How long an offer stands after a claim that found nothing, in the clock's
 * ms: longer than a worker's usual poll (200 ms), so that an idle worker
 * renews it before it lapses.
 */
export const OFFER_MS = 1_000;

/** Handed-over tasks that no claim takes within this many ms are handed back. */
export const HOLD_MS = 1_000;

/** Values per task in a claimed entry (see `ClaimedEntry`). */
const ENTRY_WIDTH = 7;

interface Held {
  task: ClaimedTask;
  since: number;
}

/**
 * Tasks that enqueues leased to this handle's waiting claims (see
 * scripts/offers.ts), kept until the owner's next claim takes them: that
 * claim needs no round trip. A handover also wakes the owner with a ready
 * signal for each queue it brings. Tasks nobody takes in time go back to
 * their queues, so a worker that stopped meanwhile strands nothing.
 */
export class Handovers {
  private readonly held = new Map<string, Held[]>();
  /** Owners whose last claim found nothing: an offer of theirs may stand. */
  private readonly offering = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: SignalHub,
    private readonly giveBack: (leases: Lease[]) => Promise<void>,
  ) {}

  /** Reads one handover message; a malformed one is dropped (its leases run out). */
  receive(message: string): void {
    const handed = parseHandover(message);
    if (!handed) return;

    this.keep(handed.owner, handed.tasks);

    for (const queue of new Set(handed.tasks.map((task) => task.queue))) {
      this.hub.announce({ type: "ready", queue });
    }
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

/**
 * A handover as the scripts write it (see offers.ts `sendHandover`), or null when it is not one.
 */
function parseHandover(message: string): { owner: string; tasks: ClaimedTask[] } | null {
  try {
    const parsed = JSON.parse(message) as {
      owner?: unknown;
      lease?: unknown;
      at?: unknown;
      tasks?: unknown;
    };
    const { owner, lease, at, tasks } = parsed;
    if (typeof owner !== "string" || typeof lease !== "number" || typeof at !== "number")
      return null;
    if (!Array.isArray(tasks) || tasks.length === 0) return null;

    const claimed: ClaimedTask[] = [];
    for (const entry of tasks as unknown[]) {
      if (!isClaimedEntry(entry)) return null;
      claimed.push(claimedRecord(entry, owner, at, lease));
    }
    return { owner, tasks: claimed };
  } catch {
    return null;
  }
}

/** The shape of one claimed entry, checked enough that a record can be built from it. */
export function isClaimedEntry(entry: unknown): entry is ClaimedEntry {
  if (!Array.isArray(entry) || entry.length !== ENTRY_WIDTH) return false;
  const stored: unknown = entry[0];
  return (
    Array.isArray(stored) &&
    typeof stored[0] === "string" &&
    typeof entry[1] === "number" &&
    typeof entry[2] === "number" &&
    typeof entry[3] === "number" &&
    typeof entry[4] === "number" &&
    typeof entry[5] === "number"
  );
}

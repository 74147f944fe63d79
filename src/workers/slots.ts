import type { Attempt } from "./attempt.js";
import { Wakeup } from "./wakeup.js";

/** Batches of ended tasks whose slots count as free while their settlements are written. */
const SETTLING_BATCHES = 2;

/** How many tasks a worker type holds, as its subclass says. */
export interface SlotLimits {
  /** Tasks held at most. */
  capacity(): number;
  /** The loop claims only when it holds this many tasks or fewer. */
  refillAt(): number;
}

/**
 * A worker's slots: the tasks it holds, which of them have ended and wait
 * for their settlement to be written, and the handshake between the claim
 * loop and a settling write that claims too (`Storage.settleAndClaim`), so
 * that the two never claim at once.
 */
export class Slots {
  /** The tasks held, by id. */
  readonly held = new Map<string, Attempt>();
  /** Rung whenever a slot may have freed up, and on stop. */
  readonly freed = new Wakeup();
  /**
   * Whether an ended task frees its slot before its settlement is written,
   * so the next claim goes out meanwhile. Off on a backend that settles and
   * claims in one write: there the settling write refills those slots, and
   * a claim of the loop's beside it would cost a write of its own. Set once
   * the storage is known.
   */
  earlyRelease = false;
  private readonly settling = new Set<string>();
  private loopWaits = false;
  private refilling = false;

  constructor(private readonly limits: SlotLimits) {}

  /** How many tasks the loop may claim now; 0 when it must wait for a slot. */
  claimable(): number {
    const capacity = this.limits.capacity();
    // Up to two capacities of ended tasks count as free: the batch whose
    // settlements are being written and the one gathering behind it. So the
    // next claim goes out while a write is under way instead of after it,
    // and the backend works on one while the worker handles the other. The
    // bound keeps a backend that refuses settlements from making the worker
    // hold ever more leases.
    const released = this.earlyRelease
      ? Math.min(this.settling.size, SETTLING_BATCHES * capacity)
      : 0;
    const busy = this.held.size - released;
    const free = capacity - busy;
    if (free <= 0 || busy > this.limits.refillAt() || this.refilling) return 0;
    return free;
  }

  /** The claim loop waits here until a slot may have freed up. */
  async waitForSlot(): Promise<void> {
    this.loopWaits = true;
    await this.freed.next();
    this.loopWaits = false;
  }

  /**
   * How many tasks a settling write of `settling` settlements should claim,
   * or null when it should claim none: only while the loop waits for a slot.
   */
  refill(settling: number): number | null {
    if (!this.loopWaits || this.refilling) return null;

    const left = this.held.size - settling;
    if (left > this.limits.refillAt()) return null;
    this.refilling = true;
    return this.limits.capacity() - left;
  }

  /** The settling write that claimed (or tried to) has returned. */
  refilled(): void {
    this.refilling = false;
    this.freed.wake();
  }

  /** The task ended; its settlement is on its way to the backend. */
  ended(id: string): void {
    this.settling.add(id);
    if (this.earlyRelease) this.freed.wake();
  }

  /** The task is no longer held: settled, its lease lost. */
  release(id: string): void {
    this.held.delete(id);
    this.settling.delete(id);
    this.freed.wake();
  }

  /** Nothing is held any more: everything was handed back. */
  clear(): void {
    this.held.clear();
    this.settling.clear();
  }
}

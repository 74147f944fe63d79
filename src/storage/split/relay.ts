// Moves lifecycle events from the queue's own log into the event store.
//
// The queue's backend writes each event in the same step as the change it
// records (NATS: just after), so its log is an outbox that a killed worker
// cannot leave behind. The relay copies that log, in seq order, into the
// event store, which keeps the queue's seqs; housekeeping then lets the
// queue drop what has been copied (see SplitStorage.maintain). Any number
// of processes may relay at once: the store skips seqs it already has, so
// each event is stored once, and every copy runs in seq order, so the store
// always holds a prefix of the queue's log that subscribers can follow.
import type { TaskEvent } from "../../events/types.js";
import type { Storage } from "../contract.js";
import type { EventStore } from "../stores.js";

/** Events read from the queue per request. */
const PAGE = 500;

/**
 * How long a hole in the queue's seqs is waited for before the relay steps
 * over it, in ms. On PostgreSQL a seq is drawn before its transaction
 * commits, so a later seq can become visible first; a rolled-back write
 * leaves a hole for good. Waiting a little lets the first kind arrive.
 */
export const GAP_GRACE_MS = 1_000;

/** What one run of the relay found. */
export interface RelayRun {
  /** True when every event the queue had when asked is in the store. */
  caughtUp: boolean;
}

export class EventRelay {
  /** The greatest seq known to be in the store. */
  private cursor = 0;
  /** A hole after `after`, first seen at `since` (ms, this process's monotonic time). */
  private gap: { after: number; since: number } | null = null;
  private running: Promise<RelayRun> | null = null;
  private queued: Promise<RelayRun> | null = null;

  constructor(
    private readonly queue: Storage,
    private readonly store: EventStore,
    private readonly monotonicNow: () => number = () => performance.now(),
  ) {}

  /**
   * Copies what is new. A call made while a copy runs waits for one more
   * copy that starts after it, so it sees every event stored before it was
   * made; calls that pile up share that one.
   */
  run(): Promise<RelayRun> {
    if (!this.running) {
      this.running = this.copy().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.run();
      });
    return this.queued;
  }

  private async copy(): Promise<RelayRun> {
    // Another process may have copied further: start from the store.
    this.cursor = Math.max(this.cursor, await this.store.lastEventSeq());

    for (;;) {
      const page = await this.queue.eventsSince(this.cursor, PAGE);
      const ready = this.upToGap(page);
      if (ready.length > 0) {
        await this.store.append(ready);
        this.cursor = (ready.at(-1) as TaskEvent).seq;
      }

      if (ready.length < page.length) return { caughtUp: false };
      if (page.length < PAGE) return { caughtUp: true };
    }
  }

  /** The leading events of `page` that follow the cursor without a hole (or past a stale one). */
  private upToGap(page: readonly TaskEvent[]): TaskEvent[] {
    let last = this.cursor;
    let count = 0;
    for (const event of page) {
      // A store that holds nothing yet has no place to follow on from.
      const follows = last === 0 || event.seq === last + 1 || this.gapIsStale(last);
      if (!follows) break;
      last = event.seq;
      count += 1;
    }
    if (count === page.length || page.length === 0) this.gap = null;
    return page.slice(0, count);
  }

  private gapIsStale(after: number): boolean {
    const now = this.monotonicNow();
    if (this.gap?.after !== after) {
      this.gap = { after, since: now };
      return false;
    }
    if (now - this.gap.since < GAP_GRACE_MS) return false;
    this.gap = null;
    return true;
  }
}

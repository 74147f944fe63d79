/** Tasks remembered at most: past this, waits look at the store first, as for any other task. */
const MOST_REMEMBERED = 100_000;

/**
 * The tasks this handle enqueued that it has not heard finish, on a backend
 * that says when its signals may have been missed (`Storage.signalEpoch`).
 * A wait for one of these needs no first look at the store: had it ended,
 * its `finished` signal would have come. That look is a read per task (a
 * script call on Redis, a statement on PostgreSQL), and an application that
 * enqueues and then waits makes it for every task.
 *
 * A task is noted before its enqueue is sent, so that a `finished` signal
 * arriving before the enqueue returns still takes it out; noted under the
 * epoch of the moment, so that a signal missed later (the epoch moved) sends
 * its wait to the store after all.
 */
export class Unfinished {
  private readonly epochs = new Map<string, number>();

  constructor(private readonly epoch: () => number) {}

  /** Notes tasks about to be enqueued; none once `MOST_REMEMBERED` are noted. */
  note(ids: readonly string[]): void {
    if (this.epochs.size + ids.length > MOST_REMEMBERED) return;
    const now = this.epoch();
    for (const id of ids) this.epochs.set(id, now);
  }

  /** Forgets tasks: they finished, or were not stored under these ids. */
  forget(ids: readonly string[]): void {
    for (const id of ids) this.epochs.delete(id);
  }

  /** True when `id` cannot have finished without this handle hearing of it. */
  has(id: string): boolean {
    const noted = this.epochs.get(id);
    return noted !== undefined && noted === this.epoch();
  }
}

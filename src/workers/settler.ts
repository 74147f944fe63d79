import type { Settlement, Storage } from "../storage/contract.js";

/**
 * Gathers the ends of attempts and writes them in batches: one `settle` call
 * per turn of the event loop instead of one per task. A failed write is
 * tried again after a pause; the tasks stay leased meanwhile, and if the
 * backend stays away their leases run out and other workers run them again.
 */
export class Settler {
  private pending: Settlement[] = [];
  private waiters: Array<() => void> = [];
  private scheduled = false;
  private writing = false;
  private closed = false;

  constructor(
    private readonly storage: Storage,
    private readonly onWritten: (settlement: Settlement, applied: boolean) => void,
    private readonly onError: (error: unknown) => void,
    private readonly retryMs = 500,
  ) {}

  add(settlement: Settlement): void {
    this.pending.push(settlement);
    this.schedule();
  }

  /** Resolves once everything added so far has been written, or the settler closed. */
  flushed(): Promise<void> {
    if (this.pending.length === 0 && !this.writing) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops retrying: what is still unwritten stays leased and returns to the queue on its own. */
  close(): void {
    this.closed = true;
    this.release();
  }

  private schedule(): void {
    if (this.scheduled || this.writing || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.write();
    });
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.writing = true;

    try {
      const applied = await this.storage.settle(batch);
      batch.forEach((settlement, i) => {
        this.onWritten(settlement, applied[i] === true);
      });
    } catch (error) {
      this.onError(error);
      this.pending = batch.concat(this.pending);
      await new Promise((resolve) => setTimeout(resolve, this.retryMs));
    } finally {
      this.writing = false;
    }

    if (this.pending.length > 0 && !this.closed) this.schedule();
    else this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

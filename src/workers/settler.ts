import type { ClaimRequest, Settlement, Storage } from "../storage/contract.js";
import type { ClaimedTask } from "../task/record.js";

/**
 * What lets a batch of settlements also refill the worker, on a backend that
 * can settle and claim in one write (`Storage.settleAndClaim`).
 */
export interface Refill {
  /** The claim to make along with `settling` settlements, or null for none. */
  request(settling: number): ClaimRequest | null;
  /** Takes what that claim got; called after the batch's `onWritten` calls. */
  claimed(tasks: readonly ClaimedTask[]): void;
  /** The write that carried a `request` is over, whatever came of it. */
  done(): void;
}

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
    private readonly refill?: Refill,
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

    // Asked for only where the backend can do both at once, so a request
    // made is a request carried.
    const refill = this.storage.settleAndClaim ? this.refill : undefined;
    const request = refill?.request(batch.length) ?? null;
    let failed = false;
    try {
      await this.writeBatch(batch, request);
    } catch (error) {
      failed = true;
      this.onError(error);
    } finally {
      // Before any pause: the worker's own claims wait for this.
      if (request !== null) refill?.done();
    }

    if (failed) {
      this.pending = batch.concat(this.pending);
      await new Promise((resolve) => setTimeout(resolve, this.retryMs));
    }
    this.writing = false;

    if (this.pending.length > 0 && !this.closed) this.schedule();
    else this.release();
  }

  private async writeBatch(batch: Settlement[], request: ClaimRequest | null): Promise<void> {
    const both =
      request !== null && this.storage.settleAndClaim
        ? await this.storage.settleAndClaim(batch, request)
        : { applied: await this.storage.settle(batch), claimed: [] };

    for (let i = 0; i < batch.length; i++) {
      this.onWritten(batch[i] as Settlement, both.applied[i] === true);
    }
    if (request !== null) this.refill?.claimed(both.claimed);
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

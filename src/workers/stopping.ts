// A worker's graceful stop, once it has stopped claiming: the tasks it holds
// get until a deadline to finish, and what still runs then is handed back,
// its attempt not counted, so that another worker runs it.
import { toErrorInfo } from "../errors.js";
import { type LeaseHolder, leasesOf } from "./lease-keeping.js";
import type { Settler } from "./settler.js";

/**
 * What a stop needs of the worker it stops: what keeping its leases needs
 * (the tasks held, the storage to hand them back to, the log), and these.
 */
export interface StopTarget extends LeaseHolder {
  /** Writes the settlements of the tasks that finish meanwhile. */
  readonly settler: Settler;
  /** Ends what still runs the interrupted attempts (see `Worker.endInterrupted`). */
  endInterrupted(): Promise<void>;
  /** The same, at once (see `Worker.hurryEnding`). */
  hurryEnding(): void;
}

/**
 * One stop of a worker, from the first `stop` call to the hand-back. A
 * `stop` called again meanwhile brings the deadline nearer (`shorten`).
 */
export class Stopping {
  private deadline = 0;
  private hurried = false;
  // Set once `endInterrupted` runs: from then on, hurrying must reach it.
  private ending = false;

  constructor(private readonly target: StopTarget) {}

  /** True once the stop was asked to end at once: what still runs is not waited for. */
  get hurry(): boolean {
    return this.hurried;
  }

  /** The stop begins: held tasks get `timeoutMs` from now; `shorten` may bring that nearer. */
  begin(timeoutMs: number): void {
    this.hurried = timeoutMs === 0;
    this.deadline = Date.now() + timeoutMs;
  }

  /** `stop` was called again: its `timeoutMs` counts if it ends sooner; 0 ends everything now. */
  shorten(timeoutMs: number): void {
    if (timeoutMs === 0 && !this.hurried) {
      this.hurried = true;
      if (this.ending) this.target.hurryEnding();
    }
    this.deadline = Math.min(this.deadline, Date.now() + timeoutMs);
    this.target.slots.freed.wake();
  }

  /** Waits for the held tasks until the deadline, then hands back what still runs. */
  async finish(): Promise<void> {
    await this.drain();
    await this.target.settler.flushed();
    await this.handBack();
  }

  /** Waits until nothing is held or the deadline (which `shorten` may bring nearer) passes. */
  private async drain(): Promise<void> {
    const { slots, settler } = this.target;
    while (slots.held.size > 0 && Date.now() < this.deadline) {
      await slots.freed.next(this.deadline - Date.now());
      await settler.flushed();
    }
  }

  /** Gives back what is still running after the deadline, without counting the attempt. */
  private async handBack(): Promise<void> {
    const { slots, storage, log } = this.target;
    const attempts = [...slots.held.values()];
    if (attempts.length === 0) return;

    for (const attempt of attempts) {
      this.target.interrupt(attempt, "stopping", "the worker is stopping");
    }
    // Released tasks may start elsewhere at once: what still runs them here must end first.
    this.ending = true;
    await this.target.endInterrupted();
    try {
      await storage.release(leasesOf(attempts));
    } catch (error) {
      log.warn({ err: toErrorInfo(error) }, "hand-back failed; the leases will run out");
    }
    slots.clear();
  }
}

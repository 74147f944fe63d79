import type { Storage, TaskOutcome } from "../storage/contract.js";
import { isFinal } from "../task/state.js";

/** How many waiting tasks one poll looks at, so that many waiters cost little per poll. */
const POLL_BATCH = 200;

type Settle = (outcome: TaskOutcome | null) => void;

/**
 * Waits for tasks to end. A `finished` signal from the backend wakes the
 * waiters of those tasks at once; a poll, a few waiting tasks at a time,
 * covers backends and processes that send no signal.
 */
export class ResultWaiter {
  private readonly waiting = new Map<string, Set<Settle>>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly storage: Storage,
    private readonly pollIntervalMs: number,
  ) {}

  /**
   * The task's final outcome; null for an unknown id; "timeout" when it has
   * not ended within `timeoutMs`.
   */
  async wait(id: string, timeoutMs: number): Promise<TaskOutcome | null | "timeout"> {
    let settle: Settle = () => {};
    const ended = new Promise<TaskOutcome | null>((resolve) => {
      settle = resolve;
    });
    // Listen before looking, so that an end between the look and the listen is not missed.
    this.add(id, settle);

    try {
      const now = await this.storage.getOutcome(id);
      if (now === null || isFinal(now.state)) return now;
      return await withTimeout(ended, timeoutMs);
    } finally {
      this.remove(id, settle);
    }
  }

  /** Called with a `finished` signal: its outcomes save a read where the backend sent them. */
  finished(ids: readonly string[], outcomes?: ReadonlyMap<string, TaskOutcome>): void {
    for (const id of ids) {
      const settles = this.waiting.get(id);
      if (!settles) continue;

      const outcome = outcomes?.get(id);
      if (outcome) for (const settle of settles) settle(outcome);
      else void this.check(id);
    }
  }

  close(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    for (const settles of this.waiting.values()) for (const settle of settles) settle(null);
    this.waiting.clear();
  }

  private add(id: string, settle: Settle): void {
    let settles = this.waiting.get(id);
    if (!settles) {
      settles = new Set();
      this.waiting.set(id, settles);
    }
    settles.add(settle);

    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
      this.pollTimer.unref();
    }
  }

  private remove(id: string, settle: Settle): void {
    const settles = this.waiting.get(id);
    settles?.delete(settle);
    if (settles?.size === 0) this.waiting.delete(id);
    if (this.waiting.size === 0) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  private async check(id: string): Promise<void> {
    const outcome = await this.storage.getOutcome(id).catch(() => undefined);
    if (outcome === undefined) return;
    if (outcome !== null && !isFinal(outcome.state)) return;
    for (const settle of this.waiting.get(id) ?? []) settle(outcome);
  }

  /** Looks at the longest-waiting tasks; a checked task moves to the back of the line. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const ids = [...this.waiting.keys()].slice(0, POLL_BATCH);
      for (const id of ids) {
        const settles = this.waiting.get(id);
        if (!settles) continue;
        this.waiting.delete(id);
        this.waiting.set(id, settles);
        await this.check(id);
      }
    } finally {
      this.polling = false;
    }
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | "timeout"> {
  if (!Number.isFinite(timeoutMs)) return promise;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

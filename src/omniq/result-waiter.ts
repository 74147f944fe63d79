import type { Storage, TaskOutcome } from "../storage/contract.js";
import { isFinal } from "../task/state.js";

/** How many waiting tasks one poll looks at, so that many waiters cost little per poll. */
const POLL_BATCH = 200;

type Answer = TaskOutcome | null | "timeout";

/** One `wait` call: how to answer it, its timeout, and the next waiter of the same task. */
interface Waiter {
  resolve(answer: Answer): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
  next: Waiter | undefined;
}

/**
 * Waits for tasks to end. A `finished` signal from the backend wakes the
 * waiters of those tasks at once; a poll, a few waiting tasks at a time,
 * covers backends and processes that send no signal.
 *
 * An application may wait on many thousands of tasks at once, so a wait is
 * one promise and one small record, answered directly where the task ends;
 * the waiters of one task form a list from the first one, kept in the map.
 */
export class ResultWaiter {
  private readonly waiting = new Map<string, Waiter>();
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
  wait(id: string, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, next: undefined };
      // Listen before looking, so that an end between the look and the listen is not missed.
      this.add(id, waiter);
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => this.answer(id, waiter, "timeout"), timeoutMs);
      }

      this.storage.getOutcome(id).then(
        (now) => {
          if (now === null || isFinal(now.state)) this.answer(id, waiter, now);
        },
        (error: unknown) => {
          if (this.remove(id, waiter)) reject(error);
        },
      );
    });
  }

  /** Called with a `finished` signal: its outcomes save a read where the backend sent them. */
  finished(ids: readonly string[], outcomes?: ReadonlyMap<string, TaskOutcome>): void {
    for (const id of ids) {
      if (!this.waiting.has(id)) continue;

      const outcome = outcomes?.get(id);
      if (outcome) this.answerAll(id, outcome);
      else void this.check(id);
    }
  }

  close(): void {
    this.stopPolling();
    for (const id of [...this.waiting.keys()]) this.answerAll(id, null);
  }

  private add(id: string, waiter: Waiter): void {
    waiter.next = this.waiting.get(id);
    this.waiting.set(id, waiter);

    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
      this.pollTimer.unref();
    }
  }

  /** Forgets `waiter`; false when it was answered already. */
  private remove(id: string, waiter: Waiter): boolean {
    const first = this.waiting.get(id);
    if (first === waiter) {
      if (waiter.next === undefined) this.forget(id);
      else this.waiting.set(id, waiter.next);
    } else {
      let before = first;
      while (before !== undefined && before.next !== waiter) before = before.next;
      if (before === undefined) return false;
      before.next = waiter.next;
    }
    clearTimeout(waiter.timer);
    return true;
  }

  private answer(id: string, waiter: Waiter, answer: Answer): void {
    if (this.remove(id, waiter)) waiter.resolve(answer);
  }

  /** Every waiter of `id` gets `answer`. */
  private answerAll(id: string, answer: Answer): void {
    let waiter = this.waiting.get(id);
    if (waiter === undefined) return;

    this.forget(id);
    for (; waiter !== undefined; waiter = waiter.next) {
      clearTimeout(waiter.timer);
      waiter.resolve(answer);
    }
  }

  private forget(id: string): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.stopPolling();
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async check(id: string): Promise<void> {
    const outcome = await this.storage.getOutcome(id).catch(() => undefined);
    if (outcome === undefined) return;
    if (outcome !== null && !isFinal(outcome.state)) return;
    this.answerAll(id, outcome);
  }

  /**
   * Looks at the longest-waiting tasks, all at once (a backend may batch the
   * lookups); each one looked at moves to the back of the line.
   */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const ids: string[] = [];
      for (const id of this.waiting.keys()) {
        ids.push(id);
        if (ids.length === POLL_BATCH) break;
      }
      for (const id of ids) {
        const first = this.waiting.get(id) as Waiter;
        this.waiting.delete(id);
        this.waiting.set(id, first);
      }
      await Promise.all(ids.map((id) => this.check(id)));
    } finally {
      this.polling = false;
    }
  }
}

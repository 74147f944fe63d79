import type { Storage, TaskOutcome } from "../storage/contract.js";
import { isFinal } from "../task/state.js";

/** How many waiting tasks one poll looks at, so that many waiters cost little per poll. */
const POLL_BATCH = 200;

/** How a wait ends: the task's final outcome, null for an unknown id, or "timeout". */
export type Answer = TaskOutcome | null | "timeout";

/**
 * Turns a wait's answer into what `wait` resolves with; what it throws,
 * `wait` rejects with. It runs where the answer comes, so that a wait is
 * one promise, not one for the answer and another for the result.
 */
export type ToResult<T> = (id: string, answer: Answer, timeoutMs: number) => T;

/** One `wait` call: how to answer it, its timeout, and the next waiter of the same task. */
interface Waiter<T> {
  resolve(result: T): void;
  reject(error: unknown): void;
  timeoutMs: number;
  timer: NodeJS.Timeout | undefined;
  next: Waiter<T> | undefined;
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
export class ResultWaiter<T = Answer> {
  private readonly waiting = new Map<string, Waiter<T>>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;

  /** @param toResult - what a wait resolves with; by default the answer itself. */
  constructor(
    private readonly storage: Storage,
    private readonly pollIntervalMs: number,
    private readonly toResult: ToResult<T> = (_id, answer) => answer as T,
  ) {}

  /**
   * What `toResult` makes of the task's final outcome; of null for an
   * unknown id; of "timeout" when it has not ended within `timeoutMs`.
   * `unfinished` says the task is known not to have ended (see
   * unfinished.ts): then only its signal, or a poll, is waited for.
   */
  wait(id: string, timeoutMs: number, unfinished = false): Promise<T> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, timeoutMs, timer: undefined, next: undefined };
      // Listen before looking, so that an end between the look and the listen is not missed.
      this.add(id, waiter);
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => this.answer(id, waiter, "timeout"), timeoutMs);
      }

      if (unfinished) return;
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
      const first = this.waiting.get(id);
      if (first === undefined) continue;

      const outcome = outcomes?.get(id);
      if (outcome) this.answerAll(id, outcome, first);
      else void this.check(id);
    }
  }

  close(): void {
    this.stopPolling();
    for (const id of [...this.waiting.keys()]) this.answerAll(id, null);
  }

  private add(id: string, waiter: Waiter<T>): void {
    waiter.next = this.waiting.get(id);
    this.waiting.set(id, waiter);

    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.poll(), this.pollIntervalMs);
      this.pollTimer.unref();
    }
  }

  /** Forgets `waiter`; false when it was answered already. */
  private remove(id: string, waiter: Waiter<T>): boolean {
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

  private answer(id: string, waiter: Waiter<T>, answer: Answer): void {
    if (this.remove(id, waiter)) this.settle(id, waiter, answer);
  }

  /** Every waiter of `id` gets `answer`; `first` saves looking it up where the caller has it. */
  private answerAll(id: string, answer: Answer, first = this.waiting.get(id)): void {
    if (first === undefined) return;

    this.forget(id);
    for (let waiter: Waiter<T> | undefined = first; waiter !== undefined; waiter = waiter.next) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      this.settle(id, waiter, answer);
    }
  }

  private settle(id: string, waiter: Waiter<T>, answer: Answer): void {
    let result: T;
    try {
      result = this.toResult(id, answer, waiter.timeoutMs);
    } catch (error) {
      waiter.reject(error);
      return;
    }
    waiter.resolve(result);
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
        const first = this.waiting.get(id) as Waiter<T>;
        this.waiting.delete(id);
        this.waiting.set(id, first);
      }
      await Promise.all(ids.map((id) => this.check(id)));
    } finally {
      this.polling = false;
    }
  }
}

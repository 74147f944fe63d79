/**
 * Fails operations that wait too long for the server, with one timer for
 * all of them instead of one per command: a frozen server (or a lost reply
 * that is never sent again) must not leave a caller waiting forever.
 */
export class Deadlines {
  private readonly pending = new Set<{ deadline: number; fail: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly timeoutMs: number) {}

  /** Resolves as `operation` does, or rejects with `timedOut()` once the time is up. */
  run<T>(operation: Promise<T>, timedOut: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { deadline: Date.now() + this.timeoutMs, fail: () => reject(timedOut()) };
      this.pending.add(entry);
      this.arm();
      operation.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(entry);
          reject(error);
        },
      );
    });
  }

  /** Stops the timer; operations still pending keep waiting on their own. Call it once done. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  // Checks a few times per timeout: an operation fails at most a quarter late.
  private arm(): void {
    if (this.timer) return;
    const every = Math.min(Math.max(this.timeoutMs / 4, 10), 1_000);
    this.timer = setInterval(() => this.expire(), every);
    this.timer.unref();
  }

  // The timer stays armed while nothing is pending (it is unref'd and ticks
  // at most every second): arming one anew for each operation of an idle
  // handle would cost more than it saves.
  private expire(): void {
    const now = Date.now();
    for (const entry of this.pending) {
      if (entry.deadline > now) continue;
      this.pending.delete(entry);
      entry.fail();
    }
  }
}

/**
 * A resettable doorbell: `next()` waits until `wake()` is called or the
 * timeout passes. A wake that comes while nobody waits is kept, so that a
 * signal arriving between "found nothing" and "start waiting" is not lost.
 */
export class Wakeup {
  private rung = false;
  private resolve: (() => void) | undefined;

  wake(): void {
    this.rung = true;
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.();
  }

  /** Forgets a wake that nobody waited for. */
  reset(): void {
    this.rung = false;
  }

  next(timeoutMs?: number): Promise<void> {
    if (this.rung) {
      this.rung = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => this.finish(resolve), timeoutMs);
      this.resolve = () => {
        if (timer) clearTimeout(timer);
        this.rung = false;
        resolve();
      };
    });
  }

  private finish(resolve: () => void): void {
    this.resolve = undefined;
    resolve();
  }
}

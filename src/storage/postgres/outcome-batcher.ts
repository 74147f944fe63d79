import type { TaskOutcome } from "../contract.js";

/** Most ids looked up by one statement. */
const MAX_BATCH = 1_000;

type Lookup = (ids: readonly string[]) => Promise<(TaskOutcome | null)[]>;

interface Waiter {
  resolve(outcome: TaskOutcome | null): void;
  reject(error: unknown): void;
}

/**
 * Gathers the `getOutcome` calls made in one turn of the event loop into one
 * statement per thousand ids. An application waiting on many results (say
 * `Promise.all(ids.map(getResult))`) asks for every outcome at once, and
 * again for each batch of finished tasks a signal names: one round trip per
 * task would cost the server more than running the tasks did.
 */
export class OutcomeBatcher {
  private waiting = new Map<string, Waiter[]>();
  private scheduled = false;

  constructor(private readonly lookup: Lookup) {}

  get(id: string): Promise<TaskOutcome | null> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(id, [{ resolve, reject }]);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate rather than a microtask: callers that await something
    // before asking still land in the same batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = new Map();
    const ids = [...batch.keys()];

    for (let start = 0; start < ids.length; start += MAX_BATCH) {
      const chunk = ids.slice(start, start + MAX_BATCH);
      this.lookup(chunk).then(
        (outcomes) => {
          chunk.forEach((id, i) => {
            const outcome = outcomes[i] ?? null;
            for (const waiter of batch.get(id) ?? []) waiter.resolve(outcome && copy(outcome));
          });
        },
        (error: unknown) => {
          for (const id of chunk) for (const waiter of batch.get(id) ?? []) waiter.reject(error);
        },
      );
    }
  }
}

/** Each caller gets its own object, so one changing it cannot affect another. */
function copy(outcome: TaskOutcome): TaskOutcome {
  return outcome.error ? { ...outcome, error: { ...outcome.error } } : { ...outcome };
}

import type { TaskOutcome } from "../contract.js";

/** Most ids looked up by one statement. */
const MAX_BATCH = 1_000;

/**
 * Reads the outcomes of `ids`, in their order, null for an unknown id. Each
 * outcome must be a new object: the batcher hands it to a caller as it is.
 */
type Lookup = (ids: readonly string[]) => Promise<(TaskOutcome | null)[]>;

interface Waiter {
  resolve(outcome: TaskOutcome | null): void;
  reject(error: unknown): void;
}

/**
 * Gathers the `getOutcome` calls made in one turn of the event loop into one
 * statement per thousand ids. An application waiting on many results (say
 * `Promise.all(ids.map(getResult))`) asks for every outcome at once, and
 * again for each batch of finished tasks a signal names: one statement per
 * task would cost more than running the tasks did, whether each costs a
 * round trip to a server or a call into an embedded database.
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

      // A full batch goes at once, which also keeps the map small.
      if (this.waiting.size >= MAX_BATCH) this.flush();
      else this.schedule();
    });
  }

  /**
   * Starts the lookup of everything asked so far now instead of at the end
   * of the turn: for a backend about to close its connection.
   */
  flush(): void {
    const batch = this.waiting;
    if (batch.size === 0) return;
    this.waiting = new Map();

    const ids = [...batch.keys()];
    this.lookup(ids).then(
      (outcomes) => answer(batch, ids, outcomes),
      (error: unknown) => {
        for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      },
    );
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
}

function answer(
  batch: ReadonlyMap<string, Waiter[]>,
  ids: readonly string[],
  outcomes: readonly (TaskOutcome | null)[],
): void {
  for (let i = 0; i < ids.length; i++) {
    const outcome = outcomes[i] ?? null;
    const waiters = batch.get(ids[i] as string) ?? [];

    // The first caller takes the object the lookup built; each other caller
    // of the same id gets a copy, so one changing it cannot affect another.
    let first = true;
    for (const waiter of waiters) {
      waiter.resolve(outcome !== null && !first ? copy(outcome) : outcome);
      first = false;
    }
  }
}

function copy(outcome: TaskOutcome): TaskOutcome {
  return outcome.error ? { ...outcome, error: { ...outcome.error } } : { ...outcome };
}

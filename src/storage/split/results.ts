import type { ClaimedTask } from "../../task/record.js";
import type { Clock, Settlement, Storage, StorageSignal, TaskOutcome } from "../contract.js";
import type { ResultStore, StoredResult } from "../stores.js";

/**
 * What the queue keeps in place of a result that lives in the result store:
 * the fencing token under which to find it. An encoded result never starts
 * with it (the codec writes JSON), so a task completed before its results
 * moved still reads as it was.
 */
const MARKER = "omniq:result-store:";

function markerOf(token: number): string {
  return `${MARKER}${token}`;
}

/** The token a queue's result names, or null when the result is the real one. */
export function tokenOfMarker(result: string): number | null {
  if (!result.startsWith(MARKER)) return null;
  const token = Number(result.slice(MARKER.length));
  return Number.isSafeInteger(token) ? token : null;
}

/**
 * Results kept in a `ResultStore` apart from the queue. The queue still
 * records every task's state and error; for a completed task it records a
 * marker naming the token of the attempt that completed it, and the result
 * itself is in the store under that id and token.
 */
export class SplitResults {
  /** Result time-to-live of the tasks claimed through this handle and not yet settled. */
  private readonly ttls = new Map<string, number>();
  /** Results of settlements being written right now, for signals delivered meanwhile. */
  private readonly writing = new Map<string, string>();

  constructor(
    private readonly queue: Storage,
    private readonly store: ResultStore,
    private readonly clock: Clock,
  ) {}

  claimed(tasks: readonly ClaimedTask[]): void {
    for (const task of tasks) this.ttls.set(task.id, task.resultTtlMs);
  }

  forget(ids: readonly string[]): void {
    for (const id of ids) this.ttls.delete(id);
  }

  /**
   * The result goes to its store first, then the queue records the
   * completion with the marker. A worker killed between the two leaves its
   * task running in the queue: the lease runs out, the task runs again, and
   * that attempt writes its result under its own, newer token. The other
   * order could leave a completed task whose result is nowhere. A result
   * written by an attempt whose lease was lost meanwhile is harmless: the
   * queue refuses that settlement, and its marker names another token.
   */
  async settle(settlements: readonly Settlement[]): Promise<boolean[]> {
    const completed = settlements.filter((s) => s.outcome === "completed");
    if (completed.length === 0) return this.queue.settle(settlements);

    await this.store.put(await this.entries(completed));

    for (const { id, result } of completed) this.writing.set(id, result);
    try {
      const applied = await this.queue.settle(
        settlements.map((s) =>
          s.outcome === "completed" ? { ...s, result: markerOf(s.token) } : s,
        ),
      );
      this.forget(settlements.map(({ id }) => id));
      return applied;
    } finally {
      for (const { id } of completed) this.writing.delete(id);
    }
  }

  /** The queue's outcome, with the result read from the store where the queue has a marker. */
  async outcome(id: string): Promise<TaskOutcome | null> {
    const outcome = await this.queue.getOutcome(id);
    if (outcome?.state !== "completed" || outcome.result === undefined) return outcome;

    const token = tokenOfMarker(outcome.result);
    if (token === null) return outcome;

    // Gone from the store: its result time-to-live has passed there.
    const result = await this.store.get(id, token);
    return result === null ? null : { ...outcome, result };
  }

  /**
   * A `finished` signal carries outcomes only from a handle in this process
   * (SQLite, memory, files), delivered while its settle runs: a completed
   * one gets the result being written, and one this handle does not have is
   * dropped, so its waiter reads it instead.
   */
  signal(signal: StorageSignal): StorageSignal {
    if (signal.type !== "finished" || !signal.outcomes) return signal;

    const outcomes = new Map<string, TaskOutcome>();
    for (const [id, outcome] of signal.outcomes) {
      const marked = outcome.result !== undefined && tokenOfMarker(outcome.result) !== null;
      if (!marked) outcomes.set(id, outcome);
      else if (this.writing.has(id)) outcomes.set(id, { ...outcome, result: this.writing.get(id) });
    }
    return { ...signal, outcomes };
  }

  purge(now: number): Promise<number> {
    return this.store.purge(now);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async entries(completed: readonly Settlement[]): Promise<StoredResult[]> {
    const now = this.clock.now();
    const entries: StoredResult[] = [];
    for (const settlement of completed) {
      if (settlement.outcome !== "completed") continue;
      const { id, token, result } = settlement;
      entries.push({ id, token, result, expiresAt: now + (await this.ttlOf(id)) });
    }
    return entries;
  }

  /** A task settled through another handle than the one that claimed it is looked up. */
  private async ttlOf(id: string): Promise<number> {
    const known = this.ttls.get(id);
    if (known !== undefined) return known;
    return (await this.queue.getTask(id))?.resultTtlMs ?? 0;
  }
}

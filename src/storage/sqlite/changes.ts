import type { RunResult } from "better-sqlite3";
import type { TaskEventType } from "../../events/types.js";
import type { TaskOutcome } from "../contract.js";
import type { EventSubject, Statements } from "./statements.js";

/**
 * What one write transaction did, gathered while it runs: it writes the
 * events and collects the signals to send once the transaction has
 * committed (never before, or a woken worker could look too early).
 */
export class Changes {
  /** Queues that got a task to run. */
  readonly readyQueues = new Set<string>();
  /** Tasks that reached a final state. */
  readonly finished: string[] = [];
  /** Outcomes of settled tasks, sent with the `finished` signal to handles in this process. */
  readonly outcomes = new Map<string, TaskOutcome>();
  /** Running tasks someone asked to cancel. */
  readonly cancels: string[] = [];
  /** The seq range of the events written, 0 when none: see `WalWatcher.noteOwn`. */
  firstSeq = 0;
  lastSeq = 0;

  constructor(
    private readonly statements: Statements,
    /** The one "now" of the whole transaction. */
    readonly now: number,
  ) {}

  /** Writes one event about `task`, at its current attempt. `error` is already JSON-encoded. */
  event(
    task: EventSubject,
    type: TaskEventType,
    error: string | null = null,
    runAt: number | null = null,
  ): void {
    const info = this.statements.insertEvent.run(
      task.seq,
      task.id,
      type,
      this.now,
      task.queue,
      task.name,
      task.attempts,
      error,
      runAt,
    );

    this.noteEvents(info);
  }

  /** Records the events one INSERT wrote (any number of them). */
  noteEvents(info: RunResult): void {
    if (info.changes === 0) return;

    // Seqs of one transaction are consecutive: it holds the write lock.
    const last = Number(info.lastInsertRowid);
    if (this.firstSeq === 0) this.firstSeq = last - info.changes + 1;
    this.lastSeq = last;
  }
}

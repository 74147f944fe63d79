import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { REQUEUEABLE_STATES, type TaskState } from "../../task/state.js";
import type { PurgeFilter, RequeueOutcome } from "../contract.js";
import { checkPurgeStates } from "../shared/purge.js";
import type { Changes } from "./changes.js";
import { PURGE_CHUNK } from "./maintenance.js";
import type { Statements } from "./statements.js";

interface PurgeParams {
  states: string;
  queue: string | null;
  before: number | null;
  limit: number;
}

/**
 * What happens to tasks that ended: `requeue` gives one another life,
 * `purge` deletes them before their result time-to-live. Neither is on a
 * hot path, so their statements are prepared on first use.
 */
export class DeadLetters {
  private requeueStatement: Statement<[runAt: number, seq: number]> | null = null;
  private purgeStatement: Statement<PurgeParams> | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly statements: Statements,
  ) {}

  /**
   * Puts a task that failed for good, was cancelled or expired back to
   * `pending`, due now and as if new, except for its token, which only ever
   * rises. Inside the caller's write transaction.
   */
  requeue(id: string, changes: Changes): RequeueOutcome {
    const row = this.statements.lookup.get(id);
    if (row === undefined) return "unknown";

    const state = row.state as TaskState;
    if (state === "completed") return "completed";
    if (!REQUEUEABLE_STATES.includes(state)) return "live";

    this.requeueStatement ??= this.db.prepare(
      `UPDATE omniq_tasks SET state = 'pending', lane = 1, run_at = ?, attempts = 0,
         lease_losses = 0, last_error = NULL, finished_at = NULL, started_at = NULL,
         expires_at = NULL, idempotency_key = NULL, lease_owner = NULL, lease_expires_at = NULL,
         cancel_requested = 0, result = NULL, purge_at = NULL
       WHERE seq = ?`,
    );
    this.requeueStatement.run(changes.now, row.seq);
    changes.event({ ...row, attempts: 0 }, "requeued");
    changes.readyQueues.add(row.queue);
    return "requeued";
  }

  /**
   * Deletes what `filter` names, with their results, in chunks of at most
   * `PURGE_CHUNK` rows; `write` runs each in a transaction of its own, so
   * that other processes can write between them. Answers how many.
   *
   * @throws InvalidArgumentError when no state is given or one is not final.
   */
  purge(filter: PurgeFilter, write: (deleteChunk: () => number) => number): number {
    checkPurgeStates(filter.states);
    const limit = filter.limit ?? 1_000;
    if (!(limit > 0)) return 0;

    this.purgeStatement ??= this.db.prepare(
      `DELETE FROM omniq_tasks WHERE seq IN
         (SELECT seq FROM omniq_tasks
          WHERE state IN (SELECT value FROM json_each(@states))
            AND (@queue IS NULL OR queue = @queue)
            AND (@before IS NULL OR finished_at < @before)
          LIMIT @limit + 0)`,
    );
    const statement = this.purgeStatement;
    const params: PurgeParams = {
      states: JSON.stringify(filter.states),
      queue: filter.queue ?? null,
      before: filter.finishedBefore ?? null,
      limit: 0,
    };

    let total = 0;
    while (total < limit) {
      params.limit = Math.min(PURGE_CHUNK, limit - total);
      const deleted = write(() => statement.run(params).changes);
      total += deleted;
      if (deleted < params.limit) break;
    }
    return total;
  }
}

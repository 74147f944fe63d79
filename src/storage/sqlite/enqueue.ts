import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { DuplicateTaskError } from "../../errors.js";
import type { NewTask } from "../../task/record.js";
import type { Changes } from "./changes.js";
import { startsBlocked, type TaskInsertParams, toInsertParams } from "./rows.js";
import type { Statements } from "./statements.js";

/**
 * Stores `tasks` inside the caller's write transaction; answers one id per
 * task: its own, or that of the task holding its idempotency key.
 *
 * The key is looked up in the same transaction as the insert, which holds
 * the write lock: no other process can store a holder in between. A task
 * inserted earlier in the batch is found by the same lookup (see schema.ts
 * for how keys are kept). A duplicate id throws, and the transaction with
 * it stores nothing, keys included.
 */
export function enqueueTasks(
  statements: Statements,
  tasks: readonly NewTask[],
  changes: Changes,
): string[] {
  const { insertTask, keyHolder, takeKey } = statements;
  const ids = new Array<string>(tasks.length);

  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i] as NewTask;
    const key = task.idempotencyKey;
    if (key !== undefined && key !== null) {
      const holder = keyHolder.get(key);
      if (holder !== undefined) {
        ids[i] = holder;
        continue;
      }
    }

    const seq = insertOne(insertTask, toInsertParams(task, changes.now), task.id);
    if (key !== undefined && key !== null) takeKey.run(key, seq);
    const { id, queue, name } = task;
    changes.event({ seq, id, queue, name, attempts: 0 }, "enqueued");
    // A blocked task has nothing for a worker yet.
    if (!startsBlocked(task)) changes.readyQueues.add(queue);
    ids[i] = id;
  }
  return ids;
}

/** Inserts one task row; its seq. SQLite names the index of a duplicate, so the id is ours to name. */
function insertOne(
  insertTask: Statement<TaskInsertParams>,
  params: TaskInsertParams,
  id: string,
): number {
  try {
    return Number(insertTask.run(...params).lastInsertRowid);
  } catch (error) {
    if (isDuplicateId(error)) throw new DuplicateTaskError(id);
    throw error;
  }
}

function isDuplicateId(thrown: unknown): boolean {
  return (
    thrown instanceof Error &&
    "code" in thrown &&
    thrown.code === "SQLITE_CONSTRAINT_UNIQUE" &&
    thrown.message.includes("omniq_tasks.id")
  );
}

/** The statement of `unblock`, prepared on first use: only dependency resolvers call it. */
export class Unblocker {
  private statement: Statement<{ now: number; ids: string }, { id: string; queue: string }> | null =
    null;

  constructor(private readonly db: Database.Database) {}

  /**
   * Moves the blocked tasks among `ids` to their waiting state, inside the
   * caller's write transaction; answers the ids that moved, in the order given.
   */
  unblock(ids: readonly string[], changes: Changes): string[] {
    this.statement ??= this.db.prepare(
      `UPDATE omniq_tasks SET
         state = CASE WHEN run_at > @now THEN 'scheduled' ELSE 'pending' END,
         lane = CASE WHEN run_at > @now THEN 0 ELSE 1 END, blocked = NULL
       WHERE id IN (SELECT value FROM json_each(@ids)) AND state = 'blocked'
       RETURNING id, queue`,
    );

    const rows = this.statement.all({ now: changes.now, ids: JSON.stringify(ids) });
    if (rows.length === 0) return [];

    const moved = new Set<string>();
    for (const { id, queue } of rows) {
      moved.add(id);
      changes.readyQueues.add(queue);
    }
    return [...new Set(ids)].filter((id) => moved.has(id));
  }
}

import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import type { TaskEvent } from "../../events/types.js";
import type { TaskRecord } from "../../task/record.js";
import { TASK_STATES, type TaskState } from "../../task/state.js";
import type { TaskCounts, TaskFilter } from "../contract.js";
import { TASK_COLUMNS, type TaskTuple, toTaskEvent, toTaskRecord } from "./rows.js";
import { LIMIT_PARAM, type Statements } from "./statements.js";

/** The reads of inspection: lists, counts and a task's events. */
export class Inspector {
  private readonly listStatements = new Map<string, Statement<unknown[], TaskTuple>>();

  constructor(
    private readonly db: Database.Database,
    private readonly statements: Statements,
  ) {}

  listTasks(filter: TaskFilter): TaskRecord[] {
    // One statement per combination of filters, prepared on first use.
    const where: string[] = [];
    const params: unknown[] = [];
    for (const column of ["queue", "state", "name"] as const) {
      const value = filter[column];
      if (value === undefined) continue;
      if (column === "state" && TASK_STATES.includes(value as TaskState)) {
        // A state is written into the statement, so that SQLite plans it
        // once rather than again whenever the bound value might change the
        // plan (as it might, with partial indexes on states). Blocked tasks,
        // which dependency resolvers list every second, come through the
        // index of the `blocked` column (see schema.ts).
        where.push(
          value === "blocked" ? "blocked = 1 AND state = 'blocked'" : `state = '${value}'`,
        );
        continue;
      }
      where.push(`${column} = ?`);
      params.push(value);
    }
    params.push(filter.limit ?? 100, filter.offset ?? 0);

    const rows = this.listStatement(where).all(...params);
    return rows.map(toTaskRecord);
  }

  countTasks(): TaskCounts {
    const counts: TaskCounts = {};
    for (const { queue, state, n } of this.statements.countTasks.all()) {
      const perState = counts[queue] ?? {};
      perState[state as TaskState] = n;
      counts[queue] = perState;
    }
    return counts;
  }

  taskEvents(taskId: string): TaskEvent[] {
    const task = this.statements.taskSeq.get(taskId);
    const rows =
      task !== undefined
        ? this.statements.taskEvents.all(task.seq, taskId)
        : // The task was deleted after its result time-to-live (or never was,
          // or the id is a schedule's): its events, if any, are found by a
          // scan of the log, as there is no index on task ids (see
          // schema.ts). Only inspection comes here.
          this.statements.purgedTaskEvents.all(taskId);
    return rows.map(toTaskEvent);
  }

  private listStatement(where: readonly string[]): Statement<unknown[], TaskTuple> {
    const key = where.join(" AND ");
    let statement = this.listStatements.get(key);
    if (statement === undefined) {
      const clause = where.length === 0 ? "" : `WHERE ${key}`;
      statement = this.db
        .prepare<unknown[], TaskTuple>(
          `SELECT ${TASK_COLUMNS} FROM omniq_tasks ${clause} ORDER BY seq ${LIMIT_PARAM} OFFSET ?`,
        )
        .raw();
      this.listStatements.set(key, statement);
    }
    return statement;
  }
}

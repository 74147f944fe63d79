import type { SqlNames } from "../names.js";
import { FINISHED_COLUMNS, TASK_COLUMNS } from "../rows.js";

/*
 * Single-task reads. A task is in `tasks` or in `finished`; one statement
 * reads both under one snapshot, so a task moving between them at that
 * moment is found exactly once.
 *
 * Parameters: $1 id.
 */

export function getTaskSql(n: SqlNames): string {
  return `
  SELECT ${TASK_COLUMNS} FROM ${n.tasks} WHERE id = $1
  UNION ALL
  SELECT ${FINISHED_COLUMNS} FROM ${n.finished} WHERE id = $1`;
}

export interface OutcomeRow {
  state: string;
  result: string | null;
  last_error: string | null;
}

/** The outcomes of many tasks at once. Parameters: $1 ids. */
export function getOutcomesSql(n: SqlNames): string {
  return `
  SELECT id, state, NULL AS result, last_error FROM ${n.tasks} WHERE id = ANY ($1::text[])
  UNION ALL
  SELECT id, state, result, last_error FROM ${n.finished} WHERE id = ANY ($1::text[])`;
}

import { isFinal } from "../../../task/state.js";
import type { TaskFilter } from "../../contract.js";
import type { SqlNames } from "../names.js";
import { FINISHED_COLUMNS, TASK_COLUMNS } from "../rows.js";

/**
 * Lists tasks in enqueue order (`seq`), from `tasks`, `finished` or both as
 * the state filter allows. This is an inspection query: it sorts what
 * matches, which is fine for dashboards but not meant for a hot path.
 *
 * Parameters: $1 queue, $2 state, $3 name (each null for any), $4 limit,
 * $5 offset.
 */
export function listTasksSql(n: SqlNames, filter: TaskFilter): string {
  const where = `($1::text IS NULL OR queue = $1) AND ($2::text IS NULL OR state = $2)
      AND ($3::text IS NULL OR name = $3)`;
  const live = `SELECT seq, ${TASK_COLUMNS} FROM ${n.tasks} WHERE ${where}`;
  const ended = `SELECT seq, ${FINISHED_COLUMNS} FROM ${n.finished} WHERE ${where}`;

  let source: string;
  if (filter.state === undefined) source = `${live} UNION ALL ${ended}`;
  else source = isFinal(filter.state) ? ended : live;

  return `
  SELECT ${TASK_COLUMNS} FROM (${source}) listed
  ORDER BY seq
  LIMIT $4 OFFSET $5`;
}

export function listTasksParams(filter: TaskFilter): unknown[] {
  return [
    filter.queue ?? null,
    filter.state ?? null,
    filter.name ?? null,
    filter.limit ?? 100,
    filter.offset ?? 0,
  ];
}

/** Tasks per queue and state, across both tables. */
export function countTasksSql(n: SqlNames): string {
  return `
  SELECT queue, state, count(*) AS count FROM ${n.tasks} GROUP BY queue, state
  UNION ALL
  SELECT queue, state, count(*) AS count FROM ${n.finished} GROUP BY queue, state`;
}

export interface CountRow {
  queue: string;
  state: string;
  count: number;
}

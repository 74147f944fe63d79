import type { SqlNames } from "../names.js";

const EVENT_COLUMNS = "seq, task_id, type, at, queue, name, attempt, error, run_at";

/** One task's events, oldest first. Parameters: $1 task id. */
export function taskEventsSql(n: SqlNames): string {
  return `SELECT ${EVENT_COLUMNS} FROM ${n.events} WHERE task_id = $1 ORDER BY seq`;
}

/**
 * Events after a seq, oldest first. Parameters: $1 seq, $2 limit.
 *
 * `seq` comes from a sequence, drawn when the event is written but visible
 * only at commit: two transactions can commit in the other order than they
 * drew their numbers, so a reader that follows the log by `seq` may, in that
 * narrow race, read the higher one first and skip the lower one.
 */
export function eventsSinceSql(n: SqlNames): string {
  return `SELECT ${EVENT_COLUMNS} FROM ${n.events} WHERE seq > $1 ORDER BY seq LIMIT $2`;
}

/** The newest event's seq, or 0. */
export function lastEventSeqSql(n: SqlNames): string {
  return `SELECT coalesce(max(seq), 0) AS seq FROM ${n.events}`;
}

import { CANCELLABLE_SQL, type SqlNames } from "../names.js";
import { notifyCancelSql, notifyFinishedSql } from "../signals.js";
import { archiveSql } from "./archive.js";

/*
 * Cancels one task in one statement. The row is locked first, so the state
 * the branches test is the latest committed one even when a claim or a
 * settle raced this call:
 * - waiting or blocked: moved to `finished` as cancelled, with the reason as its error
 *   and a `cancelled` event;
 * - running: flagged; its worker hears of it through a cancel signal and
 *   its next heartbeat.
 * The answer names the branch taken; `finished` and `unknown` changed nothing.
 *
 * Parameters: $1 now, $2 id, $3 the reason as a stored error (JSON).
 */
export function cancelSql(n: SqlNames): string {
  return `
  WITH target AS (
    SELECT id, state FROM ${n.tasks} WHERE id = $2 FOR UPDATE
  ),
  gone AS (
    DELETE FROM ${n.tasks} t
    USING target
    WHERE t.id = $2 AND t.id = target.id AND target.state IN ${CANCELLABLE_SQL}
    RETURNING t.*
  ),
  archived AS (${archiveSql(n, "gone", { state: "'cancelled'", lastError: "$3", now: "$1" })}),
  flagged AS (
    UPDATE ${n.tasks} t
    SET cancel_requested = true, cancel_reason = $3
    FROM target
    WHERE t.id = $2 AND t.id = target.id AND target.state = 'running'
    RETURNING t.id
  ),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt, error)
    SELECT id, 'cancelled', $1, queue, name, attempts, $3 FROM gone
  ),
  finished_signals AS (${notifyFinishedSql(n, "gone")}),
  cancel_signals AS (${notifyCancelSql(n, "flagged")})
  SELECT
    CASE
      WHEN EXISTS (SELECT 1 FROM gone) THEN 'cancelled'
      WHEN EXISTS (SELECT 1 FROM flagged) THEN 'requested'
      WHEN EXISTS (SELECT 1 FROM ${n.finished} WHERE id = $2) THEN 'finished'
      ELSE 'unknown'
    END AS outcome,
    (SELECT count(*) FROM finished_signals) + (SELECT count(*) FROM cancel_signals) AS signals`;
}

/**
 * Looks in `finished` again with a fresh snapshot: a task settled while
 * `cancelSql` waited for its row lock is missing from that statement's
 * snapshot of `finished`, and would be answered `unknown` otherwise.
 */
export function isFinishedSql(n: SqlNames): string {
  return `SELECT EXISTS (SELECT 1 FROM ${n.finished} WHERE id = $1) AS finished`;
}

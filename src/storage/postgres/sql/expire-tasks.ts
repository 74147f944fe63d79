import { type SqlNames, WAITING_SQL } from "../names.js";
import { notifyFinishedSql } from "../signals.js";
import { archiveSql } from "./archive.js";

/*
 * Expires waiting tasks whose time-to-live passed, in one statement: moved
 * to `finished` as `expired`, an `expired` event each, a finished signal.
 * The partial index `tasks_expiring` holds only waiting tasks that have a
 * time-to-live, so this reads nothing else.
 *
 * A task being claimed right now is locked by the claim; the DELETE waits
 * for it, sees it running, and leaves it.
 *
 * Parameters: $1 now.
 */
export function expireTasksSql(n: SqlNames): string {
  return `
  WITH gone AS (
    DELETE FROM ${n.tasks}
    WHERE state IN ${WAITING_SQL} AND expires_at <= $1
    RETURNING *
  ),
  archived AS (${archiveSql(n, "gone", { state: "'expired'", lastError: "last_error", now: "$1" })}),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt)
    SELECT id, 'expired', $1, queue, name, attempts FROM gone ORDER BY seq
  ),
  finished_signals AS (${notifyFinishedSql(n, "gone")})
  SELECT (SELECT count(*) FROM gone) AS expired,
    (SELECT count(*) FROM finished_signals) AS signals`;
}

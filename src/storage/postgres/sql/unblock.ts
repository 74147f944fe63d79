import type { SqlNames } from "../names.js";
import { notifyReadySql } from "../signals.js";

/*
 * Moves blocked tasks on to waiting, in one statement: `scheduled` before
 * their run-at time, else `pending`; no event (the dependency resolver
 * decided, nothing happened to the task itself); a ready signal per queue.
 * Ids that are not blocked match nothing. Two calls at once: the second
 * waits on the row lock, then finds the task no longer blocked.
 *
 * Parameters: $1 now, $2 ids.
 */
export function unblockSql(n: SqlNames): string {
  return `
  WITH moved AS (
    UPDATE ${n.tasks} t
    SET state = CASE WHEN t.run_at > $1 THEN 'scheduled' ELSE 'pending' END
    WHERE t.id = ANY ($2::text[]) AND t.state = 'blocked'
    RETURNING t.id, t.queue
  ),
  signalled AS (${notifyReadySql(n, "moved")})
  SELECT ARRAY (SELECT id FROM moved ORDER BY array_position($2::text[], id)) AS moved,
    (SELECT count(*) FROM signalled) AS signals`;
}

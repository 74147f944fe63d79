import type { SqlNames } from "../names.js";
import { notifyReadySql } from "../signals.js";

/*
 * Puts a dead letter back, in one statement: the row leaves `finished`
 * (its result with it) and enters `tasks` as `pending`, due now, with its
 * attempts, losses, error, times, time-to-live, idempotency key and lease
 * cleared. It keeps its `seq`, so it keeps its place in enqueue order, and
 * its token, which only ever rises. A `requeued` event, a ready signal.
 *
 * The answer, from this statement's snapshot:
 * - `requeued`; `completed` (left alone); `live` when it is in `tasks`;
 * - `raced` when it was a dead letter this statement did not move: another
 *   statement moved or deleted it while this one waited for its row. The
 *   caller asks again; a fresh snapshot then sees where it went.
 * - `unknown`.
 *
 * Parameters: $1 now, $2 id.
 */
export function requeueSql(n: SqlNames): string {
  return `
  WITH gone AS (
    DELETE FROM ${n.finished}
    WHERE id = $2 AND state IN ('failed', 'cancelled', 'expired')
    RETURNING *
  ),
  requeued AS (
    INSERT INTO ${n.tasks} (id, seq, name, queue, priority, payload, run_at, created_at,
      max_attempts, timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state,
      attempts, lease_losses, token, dependencies)
    SELECT id, seq, name, queue, priority, payload, $1, created_at, max_attempts, timeout_ms,
      NULL, result_ttl_ms, backoff, worker, module, 'pending', 0, 0, token, dependencies
    FROM gone
    RETURNING id, queue, name
  ),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt)
    SELECT id, 'requeued', $1, queue, name, 0 FROM requeued
  ),
  signalled AS (${notifyReadySql(n, "requeued")})
  SELECT
    CASE
      WHEN EXISTS (SELECT 1 FROM requeued) THEN 'requeued'
      WHEN EXISTS (SELECT 1 FROM ${n.finished} WHERE id = $2 AND state = 'completed')
        THEN 'completed'
      WHEN EXISTS (SELECT 1 FROM ${n.tasks} WHERE id = $2) THEN 'live'
      WHEN EXISTS (SELECT 1 FROM ${n.finished} WHERE id = $2) THEN 'raced'
      ELSE 'unknown'
    END AS outcome,
    (SELECT count(*) FROM signalled) AS signals`;
}

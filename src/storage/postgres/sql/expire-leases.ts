import type { SqlNames } from "../names.js";
import { notifyFinishedSql, notifyReadySql } from "../signals.js";
import { archiveSql } from "./archive.js";

/*
 * Returns the tasks whose lease ran out, in one statement. Each loses a
 * lease (`lease_losses + 1`), then:
 * - cancellation was asked for: cancelled, with the reason given then;
 * - too many losses ($2): failed for good with a WorkerLostError;
 * - otherwise: pending again at once (its run-at time is already past), a
 *   `retry` event carrying the WorkerLostError, a ready signal.
 *
 * The rows are locked with SKIP LOCKED first, and the lock re-checks the
 * lease on the newest row version: a heartbeat or settle that committed in
 * the meantime wins, and two housekeepers never handle the same lease.
 *
 * Parameters: $1 now, $2 the most lease losses allowed.
 */
export function expireLeasesSql(n: SqlNames): string {
  return `
  WITH lapsed AS (
    SELECT ctid FROM ${n.tasks}
    WHERE state = 'running' AND lease_expires_at <= $1
    FOR UPDATE SKIP LOCKED
  ),
  requeued AS (
    UPDATE ${n.tasks} t
    SET state = 'pending', lease_losses = t.lease_losses + 1, lease_owner = NULL,
      lease_expires_at = NULL
    WHERE t.ctid = ANY (ARRAY (SELECT ctid FROM lapsed)) AND NOT t.cancel_requested AND t.lease_losses + 1 < $2
    RETURNING t.id, t.seq, t.queue, t.name, t.attempts
  ),
  gone AS (
    DELETE FROM ${n.tasks} t
    WHERE t.ctid = ANY (ARRAY (SELECT ctid FROM lapsed)) AND (t.cancel_requested OR t.lease_losses + 1 >= $2)
    RETURNING t.*, CASE WHEN t.cancel_requested
      THEN coalesce(t.cancel_reason, ${CANCELLED})
      ELSE ${lostForGood("t.lease_losses + 1")}
    END AS final_error
  ),
  archived AS (${archiveSql(n, "gone", {
    state: "CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END",
    lastError: "final_error",
    leaseLosses: "lease_losses + 1",
    now: "$1",
  })}),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt, error, run_at)
    SELECT id, type, $1, queue, name, attempts, error, run_at
    FROM (
      SELECT id, seq, CASE WHEN cancel_requested THEN 'cancelled' ELSE 'error' END AS type,
        queue, name, attempts, final_error AS error, NULL::bigint AS run_at
      FROM gone
      UNION ALL
      SELECT id, seq, 'retry', queue, name, attempts, ${LOST_ONCE}, $1 FROM requeued
    ) e
    ORDER BY seq
  ),
  finished_signals AS (${notifyFinishedSql(n, "gone")}),
  ready_signals AS (${notifyReadySql(n, "requeued")})
  SELECT
    (SELECT count(*) FROM requeued) + (SELECT count(*) FROM gone) AS expired,
    (SELECT count(*) FROM finished_signals) + (SELECT count(*) FROM ready_signals) AS signals`;
}

const CANCELLED = `'{"name":"TaskCancelledError","message":"cancelled"}'`;

const LOST_ONCE = `'{"name":"WorkerLostError","message":"the worker holding the task stopped heartbeating; its lease ran out"}'`;

/** The error of a task failed for losing its worker `losses` times, as JSON text. */
function lostForGood(losses: string): string {
  return `json_build_object('name', 'WorkerLostError', 'message',
    'the task lost its worker ' || (${losses}) || ' times (no heartbeat before its lease ran out)')::text`;
}

import type { SqlNames } from "../names.js";

/**
 * Deletes finished tasks, results included, whose result time-to-live has
 * passed (`delete_at = finished_at + result_ttl_ms`). Their events stay
 * until the event time-to-live.
 *
 * Parameters: $1 now.
 */
export function purgeResultsSql(n: SqlNames): string {
  return `
  WITH deleted AS (DELETE FROM ${n.finished} WHERE delete_at <= $1 RETURNING 1)
  SELECT count(*) AS deleted FROM deleted`;
}

/**
 * Deletes events at least `$2` ms old (`at + ttl <= now`, written so the
 * index on `at` applies).
 *
 * Parameters: $1 now, $2 the event time-to-live.
 */
export function purgeEventsSql(n: SqlNames): string {
  return `
  WITH deleted AS (DELETE FROM ${n.events} WHERE at <= $1::bigint - $2::bigint RETURNING 1)
  SELECT count(*) AS deleted FROM deleted`;
}

/**
 * Deletes up to $4 finished tasks, results included, in the states $1, of
 * queue $2 and finished before $3 (each NULL for any). An inspection-side
 * statement: it reads `finished` in no index's order, and stops at its
 * limit. Rows another statement holds (a requeue) are skipped.
 *
 * Parameters: $1 states, $2 queue, $3 finished before, $4 limit.
 */
export function purgeTasksSql(n: SqlNames): string {
  return `
  WITH picked AS (
    SELECT ctid FROM ${n.finished}
    WHERE state = ANY ($1::text[]) AND ($2::text IS NULL OR queue = $2)
      AND ($3::bigint IS NULL OR finished_at < $3)
    LIMIT $4
    FOR UPDATE SKIP LOCKED
  ),
  deleted AS (
    DELETE FROM ${n.finished} WHERE ctid = ANY (ARRAY (SELECT ctid FROM picked)) RETURNING 1
  )
  SELECT count(*) AS deleted FROM deleted`;
}

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

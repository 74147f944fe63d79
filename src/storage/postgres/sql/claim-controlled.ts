import type { SqlNames } from "../names.js";
import { TASK_COLUMNS } from "../rows.js";
import { CLAIM_ORDER, claimCtes } from "./claim.js";

/*
 * The claim of a request naming a queue that has controls: one transaction
 * of two statements, so that the controls hold over every process.
 *
 * 1. `lockControlsSql` locks the control rows of the requested queues, in
 *    queue order so that two claimers never wait on each other in a cycle.
 *    Claimers of the same controlled queue take turns from here to commit;
 *    claims of other queues are not held up.
 * 2. `controlledClaimSql` runs with a snapshot taken after the lock (READ
 *    COMMITTED takes one per statement), so it sees every claim of those
 *    queues that committed before, and every settle: it counts what runs,
 *    works out each queue's allowance, claims within it, and adds what it
 *    took to the count of the current rate window.
 *
 * Queues without a row are not limited. A control written after step 1 by
 * another process is not locked here; this claim then counts as made
 * before it.
 */

/** Locks the control rows of some queues. Parameters: $1 queues. Answers the queues locked. */
export function lockControlsSql(n: SqlNames): string {
  return `SELECT queue FROM ${n.queueControls}
  WHERE queue = ANY ($1::text[])
  ORDER BY queue
  FOR UPDATE`;
}

/**
 * A claim within each queue's allowance, as `claimSql` otherwise: the same
 * parameters, and answers only claimed rows.
 *
 * Allowance: none when paused; else at most `concurrency` minus the queue's
 * running tasks, and at most `rate_max` minus the claims counted in the
 * current window (`window_start` is the window the count belongs to; an
 * older one counts as zero). LEAST skips the NULL of a limit not set. The
 * running tasks are found through `tasks_leased` (a lease is set exactly
 * while a task runs), which holds only the running rows.
 */
export function controlledClaimSql(n: SqlNames, queueCount: number): string {
  const window = "($1::bigint - $1::bigint % c.rate_interval_ms)";
  const allowed = (i: number) =>
    `coalesce((SELECT allowed FROM allowance WHERE queue = $${i + 7}), $3)`;

  return `
  WITH allowance AS (
    SELECT c.queue, CASE WHEN c.paused THEN 0 ELSE greatest(0, least(
      c.concurrency - (
        SELECT count(*) FROM ${n.tasks} r
        WHERE r.lease_expires_at IS NOT NULL AND r.queue = c.queue AND r.state = 'running'
      ),
      c.rate_max - CASE WHEN c.window_start = ${window} THEN c.window_count ELSE 0 END,
      $3::bigint
    )) END AS allowed
    FROM ${n.queueControls} c
    WHERE c.queue = ANY ($6::text[])
  ),
  ${claimCtes(n, queueCount, allowed)},
  counted AS (
    UPDATE ${n.queueControls} c
    SET window_start = ${window},
      window_count = CASE WHEN c.window_start = ${window} THEN c.window_count ELSE 0 END + k.taken
    FROM (SELECT queue, count(*) AS taken FROM claimed GROUP BY queue) k
    WHERE c.queue = k.queue AND c.rate_interval_ms IS NOT NULL
  )
  SELECT ${TASK_COLUMNS} FROM claimed ${CLAIM_ORDER}`;
}

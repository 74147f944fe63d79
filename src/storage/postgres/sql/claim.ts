import { type SqlNames, WAITING_SQL } from "../names.js";
import { prefixed, TASK_COLUMNS, type TaskRow } from "../rows.js";

/*
 * Claims up to $3 due tasks in one statement: picks, leases, logs.
 *
 * The pick is one CTE per requested queue, read in turn by a UNION ALL under
 * a LIMIT. Each reads the partial index `tasks_ready` for one queue in claim
 * order (priority, run-at, seq), so it touches only the rows it takes,
 * however deep the backlog. PostgreSQL evaluates a SELECT CTE only as far as
 * its reader pulls, runs the parts of a UNION ALL in order, and the LIMIT
 * stops pulling once it has enough: a later queue is read (and its rows
 * locked) only when earlier ones fall short. That is the strict queue order
 * of the contract without sorting every due row. (A locking clause cannot
 * sit inside a UNION branch itself, hence the CTEs.)
 * (`ORDER BY array_position($queues, queue)` would give the same order but
 * defeat the index: every due row of every queue would be read and sorted.)
 *
 * FOR UPDATE SKIP LOCKED makes concurrent claimers pass over each other's
 * rows instead of waiting or taking the same task.
 *
 * The UPDATE finds the picked rows by their physical address (ctid), which
 * is a direct fetch whatever the planner's statistics say. A prepared
 * statement keeps its plan until the table's statistics change, and a plan
 * made while the table was empty may join by scanning the whole table. The
 * pick holds the rows locked, so they cannot move or change in between.
 *
 * Queue controls (sql/claim-controlled.ts) are honoured without costing a
 * claim on queues that have none: this statement first looks whether any of
 * its queues has a row in `queue_controls` (`controls`, one probe of a tiny
 * table's primary key, evaluated once) and, if one has, claims nothing and
 * answers `controlled`, for the caller to take the controlled claim instead.
 * The answer always has at least one row for that flag: a claim that took
 * nothing answers one row of nulls. A control committed after this
 * statement's snapshot is not seen: the claim counts as made before it.
 *
 * Claims that wait (see sql/handover.ts), in the statement `withOffers`
 * builds: a claim that takes nothing leaves an offer for its owner, which
 * an enqueue may serve; one that takes something withdraws its owner's
 * offer. The caller asks for an offer only when its last one is near its
 * end, so an idle worker's polls do not write one each. Such a claim also
 * takes the tasks handed to its owner that its handle has not heard of
 * (`rehanded`): their messages were lost. Those the handle did hear of (it
 * says which) are only unmarked. A worker whose last claim took tasks
 * stands no offer and is handed nothing, and claims without these parts,
 * which would cost each claim of a busy worker a fifth more; when such a
 * claim finds nothing, the worker claims again at once with them.
 *
 * Parameters: $1 now, $2 worker types, $3 limit, $4 owner, $5 lease expiry,
 * $6 the queues in order, then $7… one queue per branch, then, with
 * offers, the parameters of `offerParams`.
 */
export function claimSql(n: SqlNames, queueCount: number, withOffers = false): string {
  const head = `
  WITH controls AS (
    SELECT EXISTS (
      SELECT 1 FROM ${n.queueControls} WHERE queue = ANY ($6::text[])
    ) AS controlled
  ),
  ${claimCtes(n, queueCount, () => "$3", "AND NOT (SELECT controlled FROM controls)")}`;
  if (!withOffers) {
    return `${head}
  SELECT controls.controlled, false AS rehanded, ${TASK_COLUMNS}
  FROM controls LEFT JOIN claimed ON true ${CLAIM_ORDER}`;
  }

  const [origin, leaseMs, until, heard] = [7, 8, 9, 10].map((i) => `$${i + queueCount}`);
  return `${head},
  rehanded AS (
    UPDATE ${n.tasks} SET handed = false
    WHERE lease_owner = $4 AND handed AND state = 'running' AND token = 1
      AND NOT (SELECT controlled FROM controls)
    RETURNING seq, ${TASK_COLUMNS}, id = ANY (${heard}::text[]) AS heard
  ),
  got AS (
    SELECT *, false AS rehanded FROM claimed
    UNION ALL
    SELECT seq, ${TASK_COLUMNS}, true FROM rehanded WHERE NOT heard
  ),
  withdrawn AS (
    DELETE FROM ${n.offers} WHERE owner = $4 AND EXISTS (SELECT 1 FROM got)
  ),
  offered AS (
    INSERT INTO ${n.offers} (owner, origin, queues, workers, lease_ms, until)
    SELECT $4, ${origin}, $6::text[], $2::text[], ${leaseMs}, ${until}::bigint
    WHERE ${until}::bigint > 0 AND NOT EXISTS (SELECT 1 FROM got)
      AND NOT (SELECT controlled FROM controls)
    ON CONFLICT (owner) DO UPDATE SET origin = EXCLUDED.origin, queues = EXCLUDED.queues,
      workers = EXCLUDED.workers, lease_ms = EXCLUDED.lease_ms, until = EXCLUDED.until
  )
  SELECT controls.controlled, got.rehanded, ${TASK_COLUMNS}
  FROM controls LEFT JOIN got ON true ${CLAIM_ORDER}`;
}

/**
 * The claim statement's last parameters: the handle's id, the lease length
 * in ms and when an offer made now ends (0: make none), for the offer it
 * may leave; and the ids of the tasks handed to the owner that the handle
 * heard of since its last claim.
 */
export function offerParams(
  origin: string,
  leaseMs: number,
  until: number,
  heard: readonly string[],
): unknown[] {
  return [origin, leaseMs, until, heard];
}

/**
 * The CTEs of a claim, from the pick to the `executing` events (`logged`),
 * with `claimed` holding the leased rows; no comma after the last.
 * `limit(i)` is the SQL limit of queue `i`'s branch; `guard` is more of the
 * branches' WHERE.
 */
export function claimCtes(
  n: SqlNames,
  queueCount: number,
  limit: (i: number) => string,
  guard = "",
): string {
  const queues = Array.from({ length: queueCount }, (_, i) => i);
  const branches = queues.map(
    (i) => `due_${i} AS (
    SELECT ctid FROM ${n.tasks}
    WHERE queue = $${i + 7} AND state IN ${WAITING_SQL}
      AND run_at <= $1 AND (expires_at IS NULL OR expires_at > $1)
      AND worker = ANY($2::text[]) ${guard}
    ORDER BY priority DESC, run_at, seq
    LIMIT ${limit(i)}
    FOR UPDATE SKIP LOCKED
  ),`,
  );
  const union = queues.map((i) => `SELECT ctid FROM due_${i}`).join(" UNION ALL ");

  return `${branches.join("\n  ")}
  picked AS (
    ${union}
    LIMIT $3
  ),
  claimed AS (
    UPDATE ${n.tasks} t
    SET state = 'running', attempts = t.attempts + 1, token = t.token + 1,
      lease_owner = $4, lease_expires_at = $5, started_at = $1
    WHERE t.ctid = ANY (ARRAY (SELECT ctid FROM picked))
    RETURNING t.seq, ${prefixed("t")}
  ),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt)
    SELECT id, 'executing', $1, queue, name, attempts FROM claimed ${CLAIM_ORDER}
  )`;
}

/**
 * What the claim statement answers: a claimed task, or all nulls when it
 * took none; `rehanded` for a task handed over earlier (see `claimSql`).
 */
export type ClaimRow = { controlled: boolean; rehanded: boolean | null } & (TaskRow | NullRow);

type NullRow = { [K in keyof TaskRow]: null };

/**
 * The contract's order, applied again to the few rows claimed: RETURNING
 * gives them in no particular order.
 */
export const CLAIM_ORDER = "ORDER BY array_position($6::text[], queue), priority DESC, run_at, seq";

import { type SqlNames, WAITING_SQL } from "../names.js";
import { TASK_COLUMNS } from "../rows.js";
import { enqueueInputSql } from "./enqueue.js";

/*
 * Claims that wait. A claim that finds nothing leaves an offer in `offers`
 * (see sql/claim.ts): its owner, the handle that listens for it (`origin`),
 * its queues and worker types, its lease length, and when it lapses. An
 * enqueue of one plain task then leases the task to the longest-standing
 * offer it suits, in its own statement, and sends it to the offer's handle
 * as a NOTIFY at its commit: the worker starts the task on that message,
 * without a claim of its own. That claim's round trip, with its commit, is
 * the step this saves between an enqueue and an idle worker's start.
 *
 * A task is handed over only when nothing else could come before it: none
 * of the offer's queues has flow controls (the controlled claim weighs
 * those) or a due task waiting (of any worker type: a simpler condition is
 * cheaper to plan, and planning is most of this statement's cost), and the
 * task is due, not past its expiry, and small enough for a NOTIFY payload
 * (under 8,000 bytes). Otherwise the statement stores the task as
 * `enqueueSql` does, with a ready signal.
 *
 * `FOR UPDATE ... SKIP LOCKED` gives an offer to one enqueue only; the
 * enqueue deletes it, and the owner's next claim that finds nothing leaves
 * a new one.
 *
 * A handed task is marked `handed` until its owner's next claim, which
 * returns the marked tasks of its owner that its handle has not heard of
 * (see sql/claim.ts): so a message lost on the way (the listening
 * connection dropped, or went silent) strands nothing while the worker
 * claims. One whose worker has gone runs again once its lease ends, as
 * after a worker crash.
 *
 * Parameters: those of `enqueueParams`, for a batch of one task.
 *
 * Message: 'h' and JSON `{"o": origin, "t": the task's row}`, the row with
 * the columns of `TASK_COLUMNS`.
 */

/**
 * A task whose text fields (arguments, id, name, module, backoff) are
 * larger than this together is not handed over: its message adds the rest
 * of the row and the handle's id, and a NOTIFY payload must stay under
 * 8,000 bytes.
 */
const MAX_HANDED_BYTES = 6_000;

export function handoverEnqueueSql(n: SqlNames): string {
  return `
  ${enqueueInputSql(n)},
  offer AS (
    SELECT o.owner
    FROM ${n.offers} o, input i
    WHERE o.until > $1 AND i.queue = ANY (o.queues) AND i.worker = ANY (o.workers)
      AND i.run_at <= $1 AND (i.expires_at IS NULL OR i.expires_at > $1)
      AND octet_length(i.payload) + octet_length(i.id) + octet_length(i.name)
        + coalesce(octet_length(i.module), 0) + coalesce(octet_length(i.backoff), 0)
        <= ${MAX_HANDED_BYTES}
      AND NOT EXISTS (SELECT 1 FROM clash)
      AND NOT EXISTS (SELECT 1 FROM ${n.queueControls} c WHERE c.queue = ANY (o.queues))
      AND NOT EXISTS (
        SELECT 1 FROM ${n.tasks} t
        WHERE t.queue = ANY (o.queues) AND t.state IN ${WAITING_SQL} AND t.run_at <= $1
      )
    ORDER BY o.until DESC
    LIMIT 1
    FOR UPDATE OF o SKIP LOCKED
  ),
  taken AS (
    DELETE FROM ${n.offers} o USING offer WHERE o.owner = offer.owner
    RETURNING o.owner, o.origin, o.lease_ms
  ),
  inserted AS (
    INSERT INTO ${n.tasks} (id, name, queue, priority, payload, run_at, created_at, max_attempts,
      timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state,
      attempts, token, lease_owner, lease_expires_at, started_at, handed)
    SELECT i.id, i.name, i.queue, i.priority, i.payload, i.run_at, i.created_at, i.max_attempts,
      i.timeout_ms, i.expires_at, i.result_ttl_ms, i.backoff, i.worker, i.module,
      CASE WHEN taken.owner IS NOT NULL THEN 'running'
        WHEN i.run_at > $1 THEN 'scheduled' ELSE 'pending' END,
      CASE WHEN taken.owner IS NULL THEN 0 ELSE 1 END,
      CASE WHEN taken.owner IS NULL THEN 0 ELSE 1 END,
      taken.owner, $1 + taken.lease_ms,
      CASE WHEN taken.owner IS NULL THEN NULL ELSE $1::bigint END,
      taken.owner IS NOT NULL
    FROM input i LEFT JOIN taken ON true
    WHERE NOT EXISTS (SELECT 1 FROM clash)
    RETURNING ${TASK_COLUMNS}
  ),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt)
    SELECT inserted.id, e.type, $1, inserted.queue, inserted.name, e.attempt
    FROM inserted, (VALUES ('enqueued', 0), ('executing', 1)) AS e(type, attempt)
    WHERE e.attempt = 0 OR inserted.state = 'running'
    ORDER BY e.attempt
  ),
  signalled AS (
    SELECT pg_notify(${n.channelLiteral}, CASE
      WHEN taken.owner IS NULL THEN 'r' || inserted.queue
      ELSE 'h' || json_build_object('o', taken.origin, 't', row_to_json(inserted))::text END)
    FROM inserted LEFT JOIN taken ON true
  )
  SELECT (SELECT id FROM clash) AS clash, (SELECT count(*) FROM signalled) AS signals`;
}

/**
 * Deletes the offers of handle $1 (one that closes), and every offer that
 * lapsed before $2 (housekeeping: a worker that died leaves its last one).
 */
export function withdrawOffersSql(n: SqlNames): string {
  return `DELETE FROM ${n.offers} WHERE origin = $1 OR until < $2`;
}

import type { Settlement } from "../../contract.js";
import type { SqlNames } from "../names.js";
import { errorText, msOrNull } from "../rows.js";
import { notifyFinishedSql, notifyReadySql } from "../signals.js";
import { archiveSql } from "./archive.js";

/*
 * Ends a batch of attempts in one statement. Every change is guarded by
 * `token = i.token AND state = 'running'` in the statement that makes it, so
 * a stale settlement (its lease expired and the task re-claimed, or already
 * settled) matches no row and changes nothing: fencing without a separate
 * read. `t.id = ANY (…)` lets the planner find the rows by primary key
 * rather than joining the input with a scan of the table.
 *
 * A retry stays in `tasks` (UPDATE). Every other outcome is final: the row
 * is deleted from `tasks` and inserted into `finished` with its result, so
 * the hot table keeps only what can still run.
 *
 * Events follow the input order; a retry writes `error` then `retry`.
 * Finished tasks are signalled by id, queues that got a task back as ready.
 *
 * A batch without retries, the common case, gets a statement without the
 * retry branch: less to plan and nothing to look up for it.
 *
 * Parameters: $1 now, then one array per field: $2 ids, $3 tokens,
 * $4 outcomes (`completed`, `failed`, `cancelled`, or `retry` for a failure
 * with a retry time), $5 results, $6 errors (JSON), $7 retry times.
 */
export function settleSql(n: SqlNames, withRetries: boolean): string {
  const retried = `
  retried AS (
    UPDATE ${n.tasks} t
    SET state = 'retrying', run_at = i.retry_at, last_error = i.error,
      lease_owner = NULL, lease_expires_at = NULL
    FROM input i
    WHERE t.id = ANY (ARRAY (SELECT id FROM input WHERE outcome = 'retry'))
      AND t.id = i.id AND t.token = i.token AND t.state = 'running' AND i.outcome = 'retry'
    RETURNING t.id, t.queue, t.name, t.attempts, i.error, i.retry_at, i.ord
  ),`;
  const retryEvents = `
      UNION ALL
      SELECT id, 'error', queue, name, attempts, error, NULL, ord, 0 FROM retried
      UNION ALL
      SELECT id, 'retry', queue, name, attempts, NULL, retry_at, ord, 1 FROM retried`;

  return `
  WITH input AS (
    SELECT * FROM unnest($2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::bigint[])
      WITH ORDINALITY AS i(id, token, outcome, result, error, retry_at, ord)
  ),${withRetries ? retried : ""}
  ended AS (
    DELETE FROM ${n.tasks} t
    USING input i
    WHERE t.id = ANY (ARRAY (SELECT id FROM input WHERE outcome <> 'retry'))
      AND t.id = i.id AND t.token = i.token AND t.state = 'running' AND i.outcome <> 'retry'
    RETURNING t.*, i.outcome, i.result, i.error AS new_error, i.ord
  ),
  archived AS (${archiveSql(n, "ended", {
    state: "outcome",
    lastError: "CASE WHEN outcome = 'completed' THEN last_error ELSE new_error END",
    result: "CASE WHEN outcome = 'completed' THEN result END",
    now: "$1",
  })}),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt, error, run_at)
    SELECT id, type, $1, queue, name, attempts, error, run_at
    FROM (
      SELECT id, CASE outcome WHEN 'failed' THEN 'error' ELSE outcome END AS type, queue, name,
        attempts, CASE WHEN outcome = 'completed' THEN NULL ELSE new_error END AS error,
        NULL::bigint AS run_at, ord, 0 AS step
      FROM ended${withRetries ? retryEvents : ""}
    ) e
    ORDER BY ord, step
  ),
  finished_signals AS (${notifyFinishedSql(n, "ended")})${
    withRetries ? `,\n  ready_signals AS (${notifyReadySql(n, "retried")})` : ""
  }
  SELECT
    ARRAY(SELECT ord::integer FROM ended${
      withRetries ? " UNION ALL SELECT ord::integer FROM retried" : ""
    }) AS applied,
    (SELECT count(*) FROM finished_signals)${
      withRetries ? " + (SELECT count(*) FROM ready_signals)" : ""
    } AS signals`;
}

export interface SettleRow {
  /** 1-based positions (in the input) of the settlements that applied. */
  applied: number[];
}

/** Whether a batch needs the statement with the retry branch. */
export function hasRetries(settlements: readonly Settlement[]): boolean {
  return settlements.some((s) => s.outcome === "failed" && s.retryAt !== null);
}

/** The statement's parameters for settlements that are all different leases. */
export function settleParams(settlements: readonly Settlement[], now: number): unknown[] {
  return [
    now,
    settlements.map((s) => s.id),
    settlements.map((s) => s.token),
    settlements.map(outcomeOf),
    settlements.map((s) => (s.outcome === "completed" ? s.result : null)),
    settlements.map((s) => (s.outcome === "completed" ? null : errorText(s.error))),
    settlements.map((s) => (s.outcome === "failed" ? msOrNull(s.retryAt) : null)),
  ];
}

function outcomeOf(settlement: Settlement): string {
  if (settlement.outcome === "failed" && settlement.retryAt !== null) return "retry";
  return settlement.outcome;
}

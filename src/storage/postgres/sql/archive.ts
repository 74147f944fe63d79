import type { SqlNames } from "../names.js";

/** What differs between the statements that move tasks into `finished`: SQL expressions. */
export interface ArchiveFields {
  /** The final state. */
  state: string;
  lastError: string;
  /** The time, usually a parameter such as `$1`. */
  now: string;
  /** @default "lease_losses" */
  leaseLosses?: string;
  /** @default "NULL" */
  result?: string;
}

/**
 * SQL that copies rows deleted from `tasks` (the CTE `relation`, returning
 * `t.*`) into `finished`: the second half of every statement that ends a
 * task. The expressions in `fields` read the relation's columns.
 */
export function archiveSql(n: SqlNames, relation: string, fields: ArchiveFields): string {
  return `
    INSERT INTO ${n.finished} (id, seq, name, queue, priority, payload, run_at, created_at,
      max_attempts, timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state,
      attempts, lease_losses, token, started_at, finished_at, cancel_requested, last_error,
      result, delete_at, idempotency_key, dependencies)
    SELECT id, seq, name, queue, priority, payload, run_at, created_at, max_attempts, timeout_ms,
      expires_at, result_ttl_ms, backoff, worker, module, ${fields.state}, attempts,
      ${fields.leaseLosses ?? "lease_losses"}, token, started_at, ${fields.now}, cancel_requested,
      ${fields.lastError}, ${fields.result ?? "NULL"}, ${fields.now} + result_ttl_ms,
      idempotency_key, dependencies
    FROM ${relation}`;
}

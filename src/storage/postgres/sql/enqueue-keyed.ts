import type { NewTask } from "../../../task/record.js";
import type { SqlNames } from "../names.js";
import { notifyReadySql } from "../signals.js";
import { enqueueParams } from "./enqueue.js";

/*
 * Stores a batch in which some task has an idempotency key or dependencies,
 * in one statement; a batch with neither takes the plain `enqueueSql`, which
 * has none of this to plan or run.
 *
 * Which tasks are stored:
 * - a task whose key a stored task holds (`held`: the unique partial index
 *   `tasks_idempotency`, which holds exactly the keys of tasks not final)
 *   is not stored; its answer is the holder's id;
 * - of the tasks of the batch that share a key, only the first is stored;
 *   the later ones answer its id;
 * - everything else is stored (`fresh`), `blocked` when it has dependencies.
 * The duplicate-id checks (the primary key, and `clash` against `finished`)
 * see only the fresh tasks.
 *
 * Another transaction may take a key after this statement's snapshot: the
 * unique index makes the INSERT wait for it, and ON CONFLICT then skips the
 * row. Such keys come back in `lost`, for the caller to look up with
 * `heldKeysSql`, whose fresh snapshot sees the other holder: the batch
 * stays one statement, all or nothing.
 *
 * Blocked tasks get their `enqueued` event but wake no worker: only queues
 * that got a claimable task are signalled.
 *
 * Parameters: those of `enqueueSql`, then $16 keys, $17 dependencies (JSON),
 * $18 whether each task starts blocked.
 */
export function enqueueKeyedSql(n: SqlNames): string {
  return `
  WITH input AS (
    SELECT * FROM unnest(
      $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::bigint[], $8::bigint[],
      $9::integer[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::text[],
      $16::text[], $17::text[], $18::boolean[]
    ) WITH ORDINALITY AS i(id, name, queue, priority, payload, run_at, created_at, max_attempts,
      timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, idempotency_key,
      dependencies, blocked, ord)
  ),
  held AS (
    SELECT idempotency_key, id FROM ${n.tasks} WHERE idempotency_key = ANY ($16::text[])
  ),
  ranked AS (
    SELECT i.*, h.id AS holder, min(i.ord) OVER (PARTITION BY i.idempotency_key) AS first_ord
    FROM input i LEFT JOIN held h ON h.idempotency_key = i.idempotency_key
  ),
  fresh AS (
    SELECT * FROM ranked
    WHERE idempotency_key IS NULL OR (holder IS NULL AND ord = first_ord)
  ),
  clash AS (
    SELECT id FROM ${n.finished} WHERE id = ANY (ARRAY (SELECT id FROM fresh)) LIMIT 1
  ),
  inserted AS (
    INSERT INTO ${n.tasks} (id, name, queue, priority, payload, run_at, created_at, max_attempts,
      timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state, idempotency_key,
      dependencies)
    SELECT id, name, queue, priority, payload, run_at, created_at, max_attempts, timeout_ms,
      expires_at, result_ttl_ms, backoff, worker, module,
      CASE WHEN blocked THEN 'blocked' WHEN run_at > $1 THEN 'scheduled' ELSE 'pending' END,
      idempotency_key, dependencies
    FROM fresh
    WHERE NOT EXISTS (SELECT 1 FROM clash)
    ORDER BY ord
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id, seq, queue, name, state
  ),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt)
    SELECT id, 'enqueued', $1, queue, name, 0 FROM inserted ORDER BY seq
  ),
  claimable AS (SELECT queue FROM inserted WHERE state <> 'blocked'),
  signalled AS (${notifyReadySql(n, "claimable")})
  SELECT
    (SELECT id FROM clash) AS clash,
    ARRAY (
      SELECT CASE WHEN r.idempotency_key IS NULL THEN r.id ELSE coalesce(r.holder, f.id) END
      FROM ranked r JOIN ranked f ON f.ord = r.first_ord
      ORDER BY r.ord
    ) AS answers,
    ARRAY (
      SELECT idempotency_key FROM fresh
      WHERE idempotency_key IS NOT NULL AND id NOT IN (SELECT id FROM inserted)
    ) AS lost,
    (SELECT count(*) FROM signalled) AS signals`;
}

/** What `enqueueKeyedSql` answers. */
export interface EnqueueKeyedRow {
  /** An id already finished; then nothing was stored. */
  clash: string | null;
  /** One id per task, in order: its own, or the holder of its key. */
  answers: string[];
  /** Keys another transaction took while this one ran: their holders are not in `answers`. */
  lost: string[];
}

/**
 * The holders of keys an enqueue lost to another transaction, read with a
 * snapshot of their own: the task in `tasks` that holds each key now or,
 * when that one has already finished, the newest finished task with the
 * key. Either held the key at some moment during the enqueue, so either is
 * a true answer. The search of `finished` (no index on keys there, and none
 * wanted on the settle path) runs only for keys missing from `tasks`, which
 * takes a holder finishing within the moment the enqueue waited on it.
 *
 * Parameters: $1 keys.
 */
export function heldKeysSql(n: SqlNames): string {
  return `
  WITH live AS (
    SELECT idempotency_key AS key, id FROM ${n.tasks} WHERE idempotency_key = ANY ($1::text[])
  ),
  missing AS (
    SELECT key FROM unnest($1::text[]) AS k(key) WHERE key NOT IN (SELECT key FROM live)
  )
  SELECT key, id FROM live
  UNION ALL
  (
    SELECT DISTINCT ON (idempotency_key) idempotency_key, id FROM ${n.finished}
    WHERE EXISTS (SELECT 1 FROM missing)
      AND idempotency_key = ANY (ARRAY (SELECT key FROM missing))
    ORDER BY idempotency_key, seq DESC
  )`;
}

/** Whether a batch needs `enqueueKeyedSql`: a task with a key or with dependencies. */
export function needsKeyedEnqueue(tasks: readonly NewTask[]): boolean {
  return tasks.some((t) => t.idempotencyKey != null || t.dependencies != null);
}

/** The statement's parameters: those of the plain enqueue, then keys, dependencies, blocked. */
export function enqueueKeyedParams(tasks: readonly NewTask[], now: number): unknown[] {
  return [
    ...enqueueParams(tasks, now),
    tasks.map((t) => t.idempotencyKey ?? null),
    tasks.map((t) => (t.dependencies == null ? null : JSON.stringify(t.dependencies))),
    tasks.map((t) => (t.dependencies?.on.length ?? 0) > 0),
  ];
}

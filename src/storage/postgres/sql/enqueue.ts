import type { NewTask } from "../../../task/record.js";
import type { SqlNames } from "../names.js";
import { ms, msOrNull } from "../rows.js";
import { notifyReadySql } from "../signals.js";

/*
 * Stores a batch of tasks in one statement: the rows, their `enqueued`
 * events and a ready signal per queue, all or nothing.
 *
 * Parameters are one array per column, unnested in step, so a batch of any
 * size is one round trip with a fixed statement text (prepared once).
 * A duplicate id within the batch or among waiting and running tasks breaks
 * the primary key and fails the statement. Ids already in `finished` are
 * looked up first: when one is found nothing is inserted and its id comes
 * back as `clash`, which the caller turns into an error.
 *
 * `seq` is drawn in the order of the input (ORDER BY ord), which is the
 * FIFO order claims follow; events are written in that order too.
 */
export function enqueueSql(n: SqlNames): string {
  return `
  ${enqueueInputSql(n)},
  inserted AS (
    INSERT INTO ${n.tasks} (id, name, queue, priority, payload, run_at, created_at, max_attempts,
      timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, state)
    SELECT id, name, queue, priority, payload, run_at, created_at, max_attempts, timeout_ms,
      expires_at, result_ttl_ms, backoff, worker, module,
      CASE WHEN run_at > $1 THEN 'scheduled' ELSE 'pending' END
    FROM input
    WHERE NOT EXISTS (SELECT 1 FROM clash)
    ORDER BY ord
    RETURNING id, seq, queue, name
  ),
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt)
    SELECT id, 'enqueued', $1, queue, name, 0 FROM inserted ORDER BY seq
  ),
  signalled AS (${notifyReadySql(n, "inserted")})
  SELECT (SELECT id FROM clash) AS clash, (SELECT count(*) FROM signalled) AS signals`;
}

/**
 * The CTEs every plain enqueue starts with: `input`, the tasks from the
 * parameters (see `enqueueParams`), and `clash`, an id of theirs already
 * finished; no comma after the last.
 */
export function enqueueInputSql(n: SqlNames): string {
  return `WITH input AS (
    SELECT * FROM unnest(
      $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::bigint[], $8::bigint[],
      $9::integer[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::text[]
    ) WITH ORDINALITY AS i(id, name, queue, priority, payload, run_at, created_at, max_attempts,
      timeout_ms, expires_at, result_ttl_ms, backoff, worker, module, ord)
  ),
  clash AS (
    SELECT id FROM ${n.finished} WHERE id = ANY ($2::text[]) LIMIT 1
  )`;
}

/** What the statement answers: the id already finished, if any (then nothing was stored). */
export interface EnqueueRow {
  clash: string | null;
}

/** The statement's parameters: now, then one array per column. */
export function enqueueParams(tasks: readonly NewTask[], now: number): unknown[] {
  return [
    now,
    tasks.map((t) => t.id),
    tasks.map((t) => t.name),
    tasks.map((t) => t.queue),
    tasks.map((t) => t.priority),
    tasks.map((t) => t.payload),
    tasks.map((t) => ms(t.runAt)),
    tasks.map((t) => ms(t.createdAt)),
    tasks.map((t) => t.maxAttempts),
    tasks.map((t) => msOrNull(t.timeoutMs)),
    tasks.map((t) => msOrNull(t.expiresAt)),
    tasks.map((t) => ms(t.resultTtlMs)),
    tasks.map((t) => (t.backoff === null ? null : JSON.stringify(t.backoff))),
    tasks.map((t) => t.worker),
    tasks.map((t) => t.module),
  ];
}

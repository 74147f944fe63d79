import type { SqlNames } from "../names.js";

/*
 * A queue's controls live in `queue_controls` only while they differ from
 * the defaults: an empty table, the common case, is what lets a claim skip
 * them all with one probe (see claim.ts). Every write sends the queue a
 * ready signal, so workers look again at once when a change lets tasks run.
 *
 * The count of a queue's current rate window lives in its row: a changed
 * control keeps it, a removed one forgets it, so a rate limit set again
 * within the same window counts from zero.
 */

/**
 * Writes a queue's controls, keeping the count of the current rate window.
 * Parameters: $1 queue, $2 paused, $3 concurrency, $4 rate max, $5 rate interval.
 */
export function putControlSql(n: SqlNames): string {
  return `
  WITH written AS (
    INSERT INTO ${n.queueControls} (queue, paused, concurrency, rate_max, rate_interval_ms)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (queue) DO UPDATE SET paused = EXCLUDED.paused,
      concurrency = EXCLUDED.concurrency, rate_max = EXCLUDED.rate_max,
      rate_interval_ms = EXCLUDED.rate_interval_ms
    RETURNING queue
  )
  SELECT pg_notify(${n.channelLiteral}, 'r' || queue) FROM written`;
}

/** Removes a queue's controls. Parameters: $1 queue. */
export function deleteControlSql(n: SqlNames): string {
  return `
  WITH gone AS (DELETE FROM ${n.queueControls} WHERE queue = $1)
  SELECT pg_notify(${n.channelLiteral}, 'r' || $1::text)`;
}

/** Every stored control. */
export function listControlsSql(n: SqlNames): string {
  return `SELECT queue, paused, concurrency, rate_max, rate_interval_ms
  FROM ${n.queueControls} ORDER BY queue`;
}

/** A row of `listControlsSql`. */
export interface ControlRow {
  queue: string;
  paused: boolean;
  concurrency: number | null;
  rate_max: number | null;
  rate_interval_ms: number | null;
}

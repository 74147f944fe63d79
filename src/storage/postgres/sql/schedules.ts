import type { SqlNames } from "../names.js";

/*
 * Schedules under a version, written by compare-and-set in one statement
 * each: of two writers expecting the same version, the second waits on the
 * row lock (or the primary key) of the first, then finds the version moved
 * on (or the id taken) and writes nothing. The event, when there is one, is
 * written by the same statement, only if the schedule was.
 */

/**
 * The CTE that logs a schedule's event for each row of `relation`. Its
 * parameters start at `$first`: now, the event type (NULL for no event),
 * queue, name. The schedule's id is $1.
 */
function eventCte(n: SqlNames, relation: string, first: number): string {
  const [now, type, queue, name] = [first, first + 1, first + 2, first + 3].map((i) => `$${i}`);
  return `
  logged AS (
    INSERT INTO ${n.events} (task_id, type, at, queue, name, attempt)
    SELECT $1, ${type}, ${now}, ${queue}, ${name}, 0 FROM ${relation}
    WHERE ${type}::text IS NOT NULL
  )`;
}

/**
 * Stores a new schedule at version 1 unless the id has one.
 * Parameters: $1 id, $2 data, $3 now, $4 event type, $5 queue, $6 name.
 */
export function createScheduleSql(n: SqlNames): string {
  return `
  WITH written AS (
    INSERT INTO ${n.schedules} (id, version, data) VALUES ($1, 1, $2)
    ON CONFLICT (id) DO NOTHING
    RETURNING version
  ),${eventCte(n, "written", 3)}
  SELECT version FROM written`;
}

/**
 * Replaces a schedule's data if its version is $7, raising the version.
 * Parameters: those of `createScheduleSql`, then $7 the expected version.
 */
export function updateScheduleSql(n: SqlNames): string {
  return `
  WITH written AS (
    UPDATE ${n.schedules} SET data = $2, version = version + 1
    WHERE id = $1 AND version = $7
    RETURNING version
  ),${eventCte(n, "written", 3)}
  SELECT version FROM written`;
}

/** Deletes a schedule. Parameters: $1 id, $2 now, $3 event type, $4 queue, $5 name. */
export function deleteScheduleSql(n: SqlNames): string {
  return `
  WITH gone AS (DELETE FROM ${n.schedules} WHERE id = $1 RETURNING id),${eventCte(n, "gone", 2)}
  SELECT count(*) AS deleted FROM gone`;
}

/** One schedule. Parameters: $1 id. */
export function getScheduleSql(n: SqlNames): string {
  return `SELECT id, version, data FROM ${n.schedules} WHERE id = $1`;
}

/** Every schedule, by id in code-point order (as JavaScript sorts strings, bar surrogates). */
export function listSchedulesSql(n: SqlNames): string {
  return `SELECT id, version, data FROM ${n.schedules} ORDER BY id COLLATE "C"`;
}

import type pg from "pg";
import { InvalidArgumentError, OmniQError, StorageError } from "../../errors.js";
import type { NewTask } from "../../task/record.js";
import { type Clock, systemClock } from "../contract.js";
import { sqlNames } from "./names.js";
import { ms } from "./rows.js";
import { type EnqueueRow, enqueueParams, enqueueSql } from "./sql/enqueue.js";
import { checkSchema, DEFAULT_SCHEMA } from "./url.js";

/** Runs one statement somewhere: a pool, a pooled connection, or the application's own client. */
export type RunStatement = (text: string, values: unknown[]) => Promise<EnqueueRow[]>;

/**
 * Stores `tasks` through `run` as one statement; turns a duplicate id into
 * an `InvalidArgumentError` naming it. Other failures are rethrown as they
 * came, for the caller to wrap.
 */
export async function runEnqueue(
  run: RunStatement,
  text: string,
  tasks: readonly NewTask[],
  now: number,
): Promise<void> {
  if (tasks.length === 0) return;

  let rows: EnqueueRow[];
  try {
    rows = await run(text, enqueueParams(tasks, now));
  } catch (error) {
    const duplicate = duplicateId(error);
    if (duplicate === undefined) throw error;
    throw alreadyExists(duplicate, error);
  }

  const clash = rows[0]?.clash;
  if (clash != null) throw alreadyExists(clash);
}

function alreadyExists(id: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`a task with id ${id} already exists; nothing was stored`, {
    cause,
  });
}

/** The id a unique violation on the tasks' primary key names, if that is what `error` is. */
function duplicateId(error: unknown): string | undefined {
  if (!(error instanceof Error) || !("code" in error) || error.code !== "23505") return undefined;
  const detail = "detail" in error && typeof error.detail === "string" ? error.detail : "";
  return /^Key \(id\)=\((.*)\) already exists/.exec(detail)?.[1] ?? "(unknown)";
}

/** Options of `enqueueWithin`. */
export interface EnqueueWithinOptions {
  /** The schema of the store, as given to `openPostgresStorage`. @default "omniq" */
  schema?: string;
  /** Where "now" comes from: decides `pending` or `scheduled`, and event times. */
  clock?: Clock;
}

/**
 * Enqueues `tasks` on the application's own connection, inside whatever
 * transaction it has open there: the tasks exist if and only if that
 * transaction commits, and workers are woken at its commit (NOTIFY is
 * transactional). The store must have been opened once before, so that its
 * schema exists.
 *
 * One statement; a duplicate id throws `InvalidArgumentError`, and on the
 * primary key that also aborts the application's transaction, as any failed
 * statement does in PostgreSQL.
 */
export async function enqueueWithin(
  client: pg.ClientBase,
  tasks: readonly NewTask[],
  options: EnqueueWithinOptions = {},
): Promise<void> {
  const names = sqlNames(checkSchema(options.schema ?? DEFAULT_SCHEMA));
  const now = ms((options.clock ?? systemClock).now());
  const run: RunStatement = async (text, values) =>
    (await client.query<EnqueueRow>(text, values)).rows;

  try {
    await runEnqueue(run, enqueueSql(names), tasks, now);
  } catch (error) {
    if (error instanceof OmniQError) throw error;
    // The connection is the application's: its URL (and password) are not
    // ours to print, so the message names the operation only.
    const detail = error instanceof Error ? error.message : String(error);
    throw new StorageError(`PostgreSQL enqueue failed: ${detail}`, { cause: error });
  }
}

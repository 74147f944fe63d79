import type pg from "pg";
import { InvalidArgumentError, OmniQError, StorageError } from "../../errors.js";
import type { NewTask } from "../../task/record.js";
import { type Clock, systemClock } from "../contract.js";
import type { Statement } from "./db.js";
import { type SqlNames, sqlNames } from "./names.js";
import { ms } from "./rows.js";
import { type EnqueueRow, enqueueParams, enqueueSql } from "./sql/enqueue.js";
import {
  type EnqueueKeyedRow,
  enqueueKeyedParams,
  enqueueKeyedSql,
  heldKeysSql,
  needsKeyedEnqueue,
} from "./sql/enqueue-keyed.js";
import { checkSchema, DEFAULT_SCHEMA } from "./url.js";

/** Runs one statement somewhere: a pool, a pooled connection, or the application's own client. */
export type RunStatement = <R extends pg.QueryResultRow>(
  statement: Statement,
  values: unknown[],
) => Promise<R[]>;

/** The statements an enqueue may run; see sql/enqueue.ts and sql/enqueue-keyed.ts. */
export interface EnqueueStatements {
  enqueue: Statement;
  enqueueKeyed: Statement;
  heldKeys: Statement;
}

/** Statements as `enqueueWithin` runs them: unnamed, built for the schema at hand. */
export function enqueueStatements(names: SqlNames): EnqueueStatements {
  return {
    enqueue: { name: "", text: enqueueSql(names) },
    enqueueKeyed: { name: "", text: enqueueKeyedSql(names) },
    heldKeys: { name: "", text: heldKeysSql(names) },
  };
}

// A key lost to another transaction whose holder was then deleted too
// (finished and purged) before it could be read is tried again: by then the
// key is free. Those tasks are then stored by a statement of their own, the
// only case in which a batch is not stored by one. Past this many rounds
// something is wrong rather than unlucky.
const MAX_KEY_ROUNDS = 5;

/**
 * Stores `tasks` through `run` and answers one id per task (its own, or the
 * holder of its idempotency key); turns a duplicate id into an
 * `InvalidArgumentError` naming it. Other failures are rethrown as they
 * came, for the caller to wrap.
 *
 * A batch without keys or dependencies is one plain statement. One with
 * them is one statement too, unless another transaction took one of its
 * keys at the same moment: see `enqueueKeyedSql`.
 */
export async function runEnqueue(
  run: RunStatement,
  statements: EnqueueStatements,
  tasks: readonly NewTask[],
  now: number,
): Promise<string[]> {
  if (tasks.length === 0) return [];

  if (!needsKeyedEnqueue(tasks)) {
    const [row] = await guarded(() =>
      run<EnqueueRow>(statements.enqueue, enqueueParams(tasks, now)),
    );
    if (row?.clash != null) throw alreadyExists(row.clash);
    return tasks.map((t) => t.id);
  }

  return enqueueKeyed(run, statements, tasks, now, 1);
}

async function enqueueKeyed(
  run: RunStatement,
  statements: EnqueueStatements,
  tasks: readonly NewTask[],
  now: number,
  round: number,
): Promise<string[]> {
  const [row] = await guarded(() =>
    run<EnqueueKeyedRow>(statements.enqueueKeyed, enqueueKeyedParams(tasks, now)),
  );
  if (!row) throw new StorageError("PostgreSQL enqueue answered no row");
  if (row.clash != null) throw alreadyExists(row.clash);
  if (row.lost.length === 0) return row.answers;

  // The winners of the lost keys, read in a snapshot that sees them.
  const held = await run<{ key: string; id: string }>(statements.heldKeys, [row.lost]);
  const holders = new Map(held.map((h) => [h.key, h.id]));
  const lost = new Set(row.lost);
  const answers = [...row.answers];
  const again: number[] = [];
  tasks.forEach((task, i) => {
    const key = task.idempotencyKey;
    if (key == null || !lost.has(key)) return;
    const holder = holders.get(key);
    if (holder !== undefined) answers[i] = holder;
    else again.push(i);
  });
  if (again.length === 0) return answers;

  if (round >= MAX_KEY_ROUNDS) {
    throw new StorageError("PostgreSQL enqueue kept losing idempotency keys to other writers");
  }
  const retried = await enqueueKeyed(
    run,
    statements,
    again.map((i) => tasks[i] as NewTask),
    now,
    round + 1,
  );
  again.forEach((i, k) => {
    answers[i] = retried[k] as string;
  });
  return answers;
}

/** Runs `body`, turning a duplicate id on the tasks' primary key into an `InvalidArgumentError`. */
async function guarded<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const duplicate = duplicateId(error);
    if (duplicate === undefined) throw error;
    throw alreadyExists(duplicate, error);
  }
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
 * Answers one id per task, as `Storage.enqueue` does; idempotency keys are
 * checked against every task not finished, this transaction's own included.
 * A key held by another open transaction makes this one wait for it.
 *
 * One statement; a duplicate id throws `InvalidArgumentError`, and on the
 * primary key that also aborts the application's transaction, as any failed
 * statement does in PostgreSQL.
 */
export async function enqueueWithin(
  client: pg.ClientBase,
  tasks: readonly NewTask[],
  options: EnqueueWithinOptions = {},
): Promise<string[]> {
  const names = sqlNames(checkSchema(options.schema ?? DEFAULT_SCHEMA));
  const now = ms((options.clock ?? systemClock).now());

  try {
    return await runEnqueue(onClient(client), enqueueStatements(names), tasks, now);
  } catch (error) {
    if (error instanceof OmniQError) throw error;
    // The connection is the application's: its URL (and password) are not
    // ours to print, so the message names the operation only.
    const detail = error instanceof Error ? error.message : String(error);
    throw new StorageError(`PostgreSQL enqueue failed: ${detail}`, { cause: error });
  }
}

/**
 * Runs statements on the application's connection, unnamed: the connection
 * is not ours to keep prepared statements on.
 */
export function onClient(client: pg.ClientBase): RunStatement {
  return async <R extends pg.QueryResultRow>(statement: Statement, values: unknown[]) =>
    (await client.query<R>(statement.text, values)).rows;
}

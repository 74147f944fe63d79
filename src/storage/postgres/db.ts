import pg from "pg";
import { StorageError } from "../../errors.js";
import type { PostgresTarget } from "./url.js";

/** A statement prepared once per connection under `name`, then only bound and run. */
export interface Statement {
  name: string;
  text: string;
}

/** Runs one statement for an operation named `what` and returns its rows, as `Db.rows` does. */
export type Query = <R extends pg.QueryResultRow>(
  what: string,
  statement: Statement | string,
  values?: readonly unknown[],
) => Promise<R[]>;

/** Settings of the connection pool; see `PostgresStorageOptions`. */
export interface PoolSettings {
  maxConnections: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
}

const INT8_OID = 20;

// bigint columns hold millisecond times and counts that fit a double, so they
// are read as numbers; the rest keeps pg's parsers. Set per pool, never on
// pg's global `types`, which belongs to the application.
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * The pg connection settings of a store: one place for pool and listener alike.
 *
 * `plan_cache_mode = force_custom_plan`: a prepared statement is planned
 * for its parameters and the tables as they are, on every execution. Left to
 * itself, PostgreSQL switches a statement to one generic plan after five
 * runs and keeps it until the table's statistics are next gathered; a plan
 * made while `tasks` was nearly empty scans it whole, and it may have grown
 * to a million rows before autovacuum analyzes it. Planning costs about
 * 0.1–0.3 ms per statement, for a batch of up to a hundred tasks.
 *
 * `enable_bitmapscan = off`: a custom plan is only as good as the
 * statistics. Until `tasks` is analyzed after it grew (autovacuum waits a
 * minute or more, and may be off), the planner multiplies default
 * selectivities into an estimate of one due row, and finds a bitmap scan of
 * every due row plus a sort as cheap as walking the claim index: with a
 * million waiting that claim took 400 ms instead of 1.5 ms, sorting on disk.
 * Without bitmap scans the claim walks `tasks_ready` in order and stops at
 * its limit whatever the estimates. No statement of omniq needs a bitmap
 * scan: each finds its rows by key or in one index range, or reads all.
 */
export function clientConfig(target: PostgresTarget, settings: PoolSettings): pg.ClientConfig {
  return {
    ...withSessionOptions(target.connectionString, PLAN_OPTION),
    connectionTimeoutMillis: settings.connectTimeoutMs,
    // A query that gets no answer (server gone without a reset) fails after
    // this long instead of hanging its caller for ever.
    query_timeout: settings.queryTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: "omniq",
    types: typeParsers,
  };
}

const PLAN_OPTION = "-c plan_cache_mode=force_custom_plan -c enable_bitmapscan=off";

/**
 * Adds server options to a connection. pg lets an `options` parameter in the
 * URL override the one in the config, so one already in the URL gets ours
 * appended rather than losing either.
 */
function withSessionOptions(connectionString: string, extra: string): pg.ClientConfig {
  const url = new URL(connectionString);
  const given = url.searchParams.get("options");
  if (given === null) return { connectionString, options: extra };

  url.searchParams.set("options", `${given} ${extra}`);
  return { connectionString: url.toString() };
}

/**
 * The pool a store runs its statements on, with every failure turned into a
 * `StorageError` whose message carries no password.
 */
export class Db {
  readonly pool: pg.Pool;

  constructor(
    readonly target: PostgresTarget,
    settings: PoolSettings,
  ) {
    this.pool = new pg.Pool({ ...clientConfig(target, settings), max: settings.maxConnections });

    // An idle connection that breaks (server restart) is dropped by the pool,
    // which then emits 'error'; unhandled, that would end the process. The
    // next statement opens a fresh connection, so there is nothing to do.
    this.pool.on("error", () => {});
  }

  /** Runs one statement and returns its rows. */
  async rows<R extends pg.QueryResultRow>(
    what: string,
    statement: Statement | string,
    values: readonly unknown[] = [],
  ): Promise<R[]> {
    const config = typeof statement === "string" ? { text: statement } : statement;
    try {
      const result = await this.pool.query<R>({ ...config, values: [...values] });
      return result.rows;
    } catch (cause) {
      throw toStorageError(what, cause, this.target);
    }
  }

  /**
   * Runs `body` inside BEGIN … COMMIT on one connection; rolls back when it
   * throws. A connection that failed is destroyed rather than reused.
   */
  async transaction<T>(what: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (cause) {
      throw toStorageError(what, cause, this.target);
    }

    // While checked out, the pool's own error listener is detached: without
    // this one, a connection dropped mid-transaction would crash the process.
    let broken: unknown = null;
    const onError = (error: unknown) => {
      broken = error;
    };
    client.on("error", onError);

    try {
      await client.query("BEGIN");
      const value = await body(client);
      await client.query("COMMIT");
      return value;
    } catch (cause) {
      broken ??= await rollback(client);
      throw toStorageError(what, cause, this.target);
    } finally {
      client.removeListener("error", onError);
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Rolls back, answering the error if the connection could not even do that. */
async function rollback(client: pg.PoolClient): Promise<unknown> {
  try {
    await client.query("ROLLBACK");
    return null;
  } catch (error) {
    return error;
  }
}

/** Wraps anything a pg call threw, naming the operation and the server, never the password. */
export function toStorageError(what: string, cause: unknown, target: PostgresTarget): StorageError {
  if (cause instanceof StorageError) return cause;

  const detail = cause instanceof Error ? cause.message : String(cause);
  const message = `PostgreSQL ${what} failed (${target.display}): ${scrub(detail, target)}`;
  return new StorageError(message, { cause });
}

/** Removes the password from text that may echo it. */
export function scrub(text: string, target: PostgresTarget): string {
  if (!target.password) return text;
  return text.split(target.password).join("***");
}

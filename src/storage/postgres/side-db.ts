import { Db } from "./db.js";
import { migrate } from "./migrate.js";
import { type SqlNames, sqlNames } from "./names.js";
import { parsePostgresUrl } from "./url.js";

/** Connections of a result or event store's pool: its statements are short and few. */
const SIDE_POOL = { maxConnections: 4, connectTimeoutMs: 10_000, queryTimeoutMs: 30_000 };

/**
 * Opens a pool on the schema a `postgres://` URL names (`?schema=`, default
 * `omniq`) and brings the schema up to date: result and event stores use
 * tables of the same schema versions as the queue.
 */
export async function openSideDb(url: string): Promise<{ db: Db; names: SqlNames }> {
  const target = parsePostgresUrl(url);
  const names = sqlNames(target.schema);
  const db = new Db(target, SIDE_POOL);
  try {
    await migrate(db, names, target.schema);
  } catch (error) {
    await db.close();
    throw error;
  }
  return { db, names };
}

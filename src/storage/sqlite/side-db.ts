import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { StorageError } from "../../errors.js";
import { configureConnection } from "./schema.js";
import { sqlitePathFromUrl } from "./url.js";

/** How long a write waits for another process's write lock, in ms. */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens the SQLite file of a result or event store and creates its tables
 * if they are missing. Their tables stand beside the queue's (a file may
 * hold both) and are not part of the queue's schema versions: `ddl` only
 * ever creates what is not there.
 */
export function openSideDatabase(
  url: string,
  ddl: string,
): { db: Database.Database; path: string } {
  const path = sqlitePathFromUrl(url);
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    configureConnection(db);
    db.exec(ddl);
    return { db, path };
  } catch (cause) {
    db?.close();
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new StorageError(`cannot open the SQLite database ${path}: ${reason}`, { cause });
  }
}

/** Runs `body`, turning what SQLite throws into a `StorageError` naming the file. */
export function guarded<T>(path: string, operation: string, body: () => T): T {
  try {
    return body();
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new StorageError(`${operation} failed on the SQLite database ${path}: ${reason}`, {
      cause,
    });
  }
}

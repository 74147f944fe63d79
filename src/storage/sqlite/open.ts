import { mkdirSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { OmniQError, StorageError } from "../../errors.js";
import { type Clock, type Storage, systemClock } from "../contract.js";
import { muteEvents } from "./mute-events.js";
import { configureConnection, migrate } from "./schema.js";
import { SqliteStorage } from "./storage.js";
import { sqlitePathFromUrl } from "./url.js";

/** Settings of `openSqliteStorage`. */
export interface SqliteStorageOptions {
  /** Where every "now" is read. @default the system clock */
  clock?: Clock;
  /**
   * Also signal changes made by other processes, by watching the file's
   * write-ahead log. Off, only changes made through this process signal,
   * and workers in other processes find new tasks by polling.
   * @default true
   */
  watch?: boolean;
  /**
   * How long a write waits for another process's write lock before it
   * fails, in ms.
   * @default 5000
   */
  busyTimeoutMs?: number;
  /** Store lifecycle events; `false` stores none (see mute-events.ts). @default true */
  recordEvents?: boolean;
}

/**
 * Opens (creating it and its folder if need be) the SQLite database named by
 * `url`: `sqlite:///absolute/path.db`, or `sqlite://relative/path.db` from
 * the working directory. Several processes may open the same file.
 *
 * @throws InvalidArgumentError for a URL that names no file.
 * @throws StorageError naming the path when the file cannot be opened or
 *   its schema is newer than this omniq.
 */
export async function openSqliteStorage(
  url: string,
  options: SqliteStorageOptions = {},
): Promise<Storage> {
  const path = sqlitePathFromUrl(url);
  const db = openDatabase(path, options.busyTimeoutMs ?? 5_000);

  try {
    if (options.recordEvents === false) muteEvents(db);
    // Handles reach one another through the real path, whatever the spelling.
    return new SqliteStorage(db, realpathSync(path), {
      clock: options.clock ?? systemClock,
      watch: options.watch ?? true,
    });
  } catch (cause) {
    db.close();
    throw new StorageError(`cannot use the SQLite database ${path}: ${messageOf(cause)}`, {
      cause,
    });
  }
}

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (cause) {
    throw new StorageError(
      `cannot create the folder of the SQLite database ${path}: ${messageOf(cause)}`,
      { cause },
    );
  }

  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
    configureConnection(db, busyTimeoutMs);
    migrate(db);
    return db;
  } catch (cause) {
    db?.close();
    if (cause instanceof OmniQError) {
      throw new StorageError(`SQLite database ${path}: ${cause.message}`, { cause });
    }
    throw new StorageError(`cannot open the SQLite database ${path}: ${messageOf(cause)}`, {
      cause,
    });
  }
}

function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

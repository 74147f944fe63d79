import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database, { type Statement } from "better-sqlite3";
import { StorageError } from "../../errors.js";
import { deleteInChunks } from "./maintenance.js";
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

/**
 * The connection of one result or event store: every call goes through
 * `run`, which refuses once closed and names the file in what SQLite throws.
 */
export class SideDatabase {
  private closed = false;

  /** @param what - the store, for messages: "result store", "event store". */
  constructor(
    readonly db: Database.Database,
    private readonly path: string,
    private readonly what: string,
  ) {}

  run<T>(operation: string, body: () => T): T {
    if (this.closed) {
      throw new StorageError(`${operation}: the SQLite ${this.what} at ${this.path} is closed`);
    }
    return guarded(this.path, operation, body);
  }

  /**
   * Runs a `DELETE .. LIMIT ?` statement taking (cutoff, limit) until it deletes less than a chunk.
   */
  purge(operation: string, chunk: Statement<[number, number]>, cutoff: number): number {
    return deleteInChunks((limit) => this.run(operation, () => chunk.run(cutoff, limit).changes));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

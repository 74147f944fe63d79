import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { StorageError } from "../../errors.js";
import type { ResultStore, StoredResult } from "../stores.js";
import { guarded, openSideDatabase } from "./side-db.js";

const DDL = `
  CREATE TABLE IF NOT EXISTS omniq_result_store (
    id         TEXT    NOT NULL,
    token      INTEGER NOT NULL,
    result     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (id, token)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS omniq_result_store_expiry ON omniq_result_store (expires_at);
`;

/** Rows one purge statement deletes, so a large purge does not hold the write lock long. */
const PURGE_CHUNK = 5_000;

/** Results in a table of a SQLite file: one row per task id and token. */
export class SqliteResultStore implements ResultStore {
  private readonly insert: Statement<[string, number, string, number]>;
  private readonly select: Statement<[string, number], { result: string }>;
  private readonly purgeChunk: Statement<[number, number]>;
  private readonly putAll: (results: readonly StoredResult[]) => void;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
  ) {
    this.insert = db.prepare(
      "INSERT OR REPLACE INTO omniq_result_store (id, token, result, expires_at) VALUES (?, ?, ?, ?)",
    );
    this.select = db.prepare("SELECT result FROM omniq_result_store WHERE id = ? AND token = ?");
    this.purgeChunk = db.prepare(
      `DELETE FROM omniq_result_store WHERE (id, token) IN
         (SELECT id, token FROM omniq_result_store WHERE expires_at <= ? LIMIT ?)`,
    );
    const putAll = db.transaction((results: readonly StoredResult[]) => {
      for (const { id, token, result, expiresAt } of results) {
        this.insert.run(id, token, result, expiresAt);
      }
    });
    this.putAll = (results) => putAll.immediate(results);
  }

  async put(results: readonly StoredResult[]): Promise<void> {
    if (results.length === 0) return;
    this.run("put results", () => this.putAll(results));
  }

  async get(id: string, token: number): Promise<string | null> {
    return this.run("get a result", () => this.select.get(id, token)?.result ?? null);
  }

  async purge(now: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const { changes } = this.run("purge results", () => this.purgeChunk.run(now, PURGE_CHUNK));
      deleted += changes;
      if (changes < PURGE_CHUNK) return deleted;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private run<T>(operation: string, body: () => T): T {
    if (this.closed)
      throw new StorageError(`${operation}: the SQLite result store at ${this.path} is closed`);
    return guarded(this.path, operation, body);
  }
}

/** Opens the result store in the SQLite file of a `sqlite://` URL. */
export async function openSqliteResultStore(url: string): Promise<ResultStore> {
  const { db, path } = openSideDatabase(url, DDL);
  return new SqliteResultStore(db, path);
}

import type { Statement } from "better-sqlite3";
import type { ResultStore, StoredResult } from "../stores.js";
import { openSideDatabase, SideDatabase } from "./side-db.js";

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

/** Results in a table of a SQLite file: one row per task id and token. */
export class SqliteResultStore implements ResultStore {
  private readonly insert: Statement<[string, number, string, number]>;
  private readonly select: Statement<[string, number], { result: string }>;
  private readonly purgeChunk: Statement<[number, number]>;
  private readonly putAll: (results: readonly StoredResult[]) => void;

  constructor(private readonly side: SideDatabase) {
    const { db } = side;
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
    this.side.run("put results", () => this.putAll(results));
  }

  async get(id: string, token: number): Promise<string | null> {
    return this.side.run("get a result", () => this.select.get(id, token)?.result ?? null);
  }

  async purge(now: number): Promise<number> {
    return this.side.purge("purge results", this.purgeChunk, now);
  }

  async close(): Promise<void> {
    this.side.close();
  }
}

/** Opens the result store in the SQLite file of a `sqlite://` URL. */
export async function openSqliteResultStore(url: string): Promise<ResultStore> {
  const { db, path } = openSideDatabase(url, DDL);
  return new SqliteResultStore(new SideDatabase(db, path, "result store"));
}

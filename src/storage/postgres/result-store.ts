import type { ResultStore, StoredResult } from "../stores.js";
import type { Db, Statement } from "./db.js";
import type { SqlNames } from "./names.js";
import { openSideDb } from "./side-db.js";

/** Results in the `result_store` table, one row per task id and token. */
export class PostgresResultStore implements ResultStore {
  private readonly upsert: Statement;
  private readonly select: Statement;
  private readonly remove: Statement;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    n: SqlNames,
  ) {
    this.upsert = {
      name: "omniq_result_store_put",
      text: `INSERT INTO ${n.resultStore} (id, token, result, expires_at)
        SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[])
        ON CONFLICT (id, token) DO UPDATE
          SET result = excluded.result, expires_at = excluded.expires_at`,
    };
    this.select = {
      name: "omniq_result_store_get",
      text: `SELECT result FROM ${n.resultStore} WHERE id = $1 AND token = $2`,
    };
    this.remove = {
      name: "omniq_result_store_purge",
      text: `WITH deleted AS (DELETE FROM ${n.resultStore} WHERE expires_at <= $1 RETURNING 1)
        SELECT count(*)::integer AS deleted FROM deleted`,
    };
  }

  async put(results: readonly StoredResult[]): Promise<void> {
    // One row per key: an UPSERT may not touch a row twice.
    const unique = [...new Map(results.map((r) => [`${r.token}:${r.id}`, r])).values()];
    if (unique.length === 0) return;
    await this.db.rows("put results", this.upsert, [
      unique.map((r) => r.id),
      unique.map((r) => r.token),
      unique.map((r) => r.result),
      unique.map((r) => r.expiresAt),
    ]);
  }

  async get(id: string, token: number): Promise<string | null> {
    const [row] = await this.db.rows<{ result: string }>("get a result", this.select, [id, token]);
    return row?.result ?? null;
  }

  async purge(now: number): Promise<number> {
    const [row] = await this.db.rows<{ deleted: number }>("purge results", this.remove, [now]);
    return row?.deleted ?? 0;
  }

  close(): Promise<void> {
    this.closing ??= this.db.close();
    return this.closing;
  }
}

/** Opens the result store in the schema of a `postgres://` URL. */
export async function openPostgresResultStore(url: string): Promise<ResultStore> {
  const { db, names } = await openSideDb(url);
  return new PostgresResultStore(db, names);
}

import type pg from "pg";
import { StorageError } from "../../errors.js";
import type { Db } from "./db.js";
import type { SqlNames } from "./names.js";
import { MIGRATIONS } from "./sql/migrations.js";

/** The schema version this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the store's schema up to `SCHEMA_VERSION`, creating it if needed.
 *
 * Everything runs in one transaction under an advisory lock keyed by the
 * schema name: of two processes starting at once on an empty database, the
 * second waits for the first to commit, then finds the schema current and
 * does nothing. A failed migration rolls back whole.
 */
export async function migrate(db: Db, n: SqlNames, schema: string): Promise<void> {
  await db.transaction("schema migration", async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [
      `omniq.migrate.${schema}`,
    ]);

    const current = await readVersion(client, n);
    if (current > SCHEMA_VERSION) {
      throw new StorageError(
        `PostgreSQL schema "${schema}" has omniq schema version ${current}, newer than the ` +
          `${SCHEMA_VERSION} this omniq knows; upgrade omniq or use another schema`,
      );
    }

    for (let version = current; version < SCHEMA_VERSION; version++) {
      const migration = MIGRATIONS[version] as (names: SqlNames) => string;
      await client.query(migration(n));
      await client.query(`INSERT INTO ${n.migrations} (version) VALUES ($1)`, [version + 1]);
    }
  });
}

/** The applied version, creating the schema and its version table on first use. */
async function readVersion(client: pg.PoolClient, n: SqlNames): Promise<number> {
  // Look before creating: CREATE SCHEMA IF NOT EXISTS needs the CREATE
  // privilege even when the schema exists, which a user running workers
  // against a prepared database may not have.
  const found = await client.query<{ table: string | null }>(
    "SELECT to_regclass($1)::text AS table",
    [n.migrations],
  );
  if (found.rows[0]?.table == null) {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${n.schema}`);
    await client.query(
      `CREATE TABLE ${n.migrations} (
        version    integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    return 0;
  }

  const applied = await client.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM ${n.migrations}`,
  );
  return applied.rows[0]?.version ?? 0;
}

// Reading PostgreSQL storage URLs, and keeping passwords out of every message.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { InvalidArgumentError, StorageError } from "../../src/errors.js";
import { clientConfig } from "../../src/storage/postgres/db.js";
import { openPostgresStorage } from "../../src/storage/postgres/index.js";
import { checkSchema, parsePostgresUrl, redactUrl } from "../../src/storage/postgres/url.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { freePort } from "./fixtures/postgres-server.js";

const skipServer = await skipUnless(POSTGRES);
const SETTINGS = { maxConnections: 1, connectTimeoutMs: 5_000, queryTimeoutMs: 5_000 };

/** The value of a setting in a session opened with the store's connection settings. */
async function sessionSetting(url: string, name: string): Promise<string> {
  const client = new pg.Client(clientConfig(parsePostgresUrl(url), SETTINGS));
  await client.connect();
  try {
    const shown = await client.query(`SHOW ${name}`);
    return shown.rows[0][name];
  } finally {
    await client.end();
  }
}

describe("postgres: storage URLs", () => {
  test("postgres:// and postgresql:// name the server; the schema defaults to omniq", () => {
    const a = parsePostgresUrl("postgres://app@db.local:6543/jobs");
    assert.equal(a.schema, "omniq");
    assert.equal(a.connectionString, "postgres://app@db.local:6543/jobs");

    const b = parsePostgresUrl("postgresql://app@db.local/jobs");
    assert.equal(b.schema, "omniq");
    assert.equal(b.connectionString, "postgresql://app@db.local/jobs");
  });

  test("?schema= picks the schema and is not passed on to pg; other parameters are", () => {
    const target = parsePostgresUrl("postgres://app@db/jobs?schema=tenant_7&sslmode=disable");

    assert.equal(target.schema, "tenant_7");
    assert.equal(target.connectionString, "postgres://app@db/jobs?sslmode=disable");
  });

  test("the schema option wins over the URL's", () => {
    assert.equal(parsePostgresUrl("postgres://db/jobs?schema=a", "b").schema, "b");
  });

  test("a schema that is not a plain identifier is refused", () => {
    for (const bad of ["", "1abc", "a-b", 'x"y', "a b", "x".repeat(49)]) {
      assert.throws(() => checkSchema(bad), InvalidArgumentError, bad);
      assert.throws(
        () => parsePostgresUrl(`postgres://db/jobs?schema=${encodeURIComponent(bad)}`),
        InvalidArgumentError,
      );
    }
    assert.equal(checkSchema("Omniq_2"), "Omniq_2");
  });

  test("other schemes and malformed URLs are refused without echoing a password", () => {
    assert.throws(() => parsePostgresUrl("redis://localhost"), InvalidArgumentError);
    assert.throws(
      () => parsePostgresUrl("postgres://user:s3cret@[bad"),
      (error: Error) => error instanceof InvalidArgumentError && !error.message.includes("s3cret"),
    );
  });

  test("the display form of a URL hides its password", () => {
    const target = parsePostgresUrl("postgres://app:s3cret@db:5432/jobs");
    assert.equal(target.display, "postgres://app:***@db:5432/jobs");
    assert.equal(target.password, "s3cret");
    assert.equal(redactUrl("postgres://app@db/jobs"), "postgres://app@db/jobs");
  });

  test("a server that cannot be reached gives a StorageError without the password", async () => {
    const port = await freePort();
    const url = `postgres://app:s3cret@127.0.0.1:${port}/jobs`;

    await assert.rejects(
      openPostgresStorage(url, { connectTimeoutMs: 2_000 }),
      (error: Error) =>
        error instanceof StorageError &&
        error.message.includes(`127.0.0.1:${port}`) &&
        !error.message.includes("s3cret"),
    );
  });

  test("sessions plan every statement afresh, keeping options the URL gives", {
    skip: skipServer,
  }, async () => {
    assert.equal(await sessionSetting(POSTGRES_URL, "plan_cache_mode"), "force_custom_plan");
    assert.equal(await sessionSetting(POSTGRES_URL, "enable_bitmapscan"), "off");

    const withOptions = `${POSTGRES_URL}?options=${encodeURIComponent("-c statement_timeout=4321")}`;
    assert.equal(await sessionSetting(withOptions, "plan_cache_mode"), "force_custom_plan");
    assert.equal(await sessionSetting(withOptions, "statement_timeout"), "4321ms");
  });
});

// Enqueue inside the application's own PostgreSQL transaction, through OmniQ.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import { InvalidArgumentError, OmniQ, UnknownTaskError } from "../../src/index.js";
import { multiply } from "../fixtures/tasks.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { dropSchema, uniqueSchema } from "../storage/fixtures/postgres-store.js";

describe("enqueueMany within the application's transaction", async () => {
  const skip = await skipUnless(POSTGRES);

  test("tasks exist only if the transaction commits", { skip }, async () => {
    const schema = uniqueSchema("within");
    const omniq = await OmniQ.open({
      storage: `${POSTGRES_URL}?schema=${schema}`,
      pollInterval: 20,
    });
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query("BEGIN");
      const [dropped] = await omniq.enqueueMany([multiply.call(2, 2)], { within: client });
      await client.query("ROLLBACK");
      assert.ok(dropped);
      await assert.rejects(omniq.getTask(dropped), UnknownTaskError);

      await client.query("BEGIN");
      const [kept] = await omniq.enqueueMany([multiply.call(3, 3)], { within: client });
      await client.query("COMMIT");
      assert.ok(kept);
      assert.equal(await omniq.getResult(kept, { timeout: "10s" }), 9);
    } finally {
      await client.end();
      await omniq.close();
      await dropSchema(schema);
    }
  });

  test("a backend that cannot join the transaction says so", async () => {
    const omniq = await OmniQ.open({ storage: "memory://", worker: false });
    try {
      await assert.rejects(
        omniq.enqueueMany([multiply.call(1, 1)], { within: {} }),
        (error: unknown) => error instanceof InvalidArgumentError && /postgres/.test(error.message),
      );
    } finally {
      await omniq.close();
    }
  });
});

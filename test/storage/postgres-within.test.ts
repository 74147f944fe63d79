// Enqueueing inside the application's own transaction: the tasks exist, and
// workers hear of them, only if that transaction commits.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { InvalidArgumentError, StorageError } from "../../src/errors.js";
import type { StorageSignal } from "../../src/storage/contract.js";
import { enqueueWithin } from "../../src/storage/postgres/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { newTask, START } from "../contract/builders.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { PostgresTestStore } from "./fixtures/postgres-store.js";

const skip = await skipUnless(POSTGRES);
const stores: PostgresTestStore[] = [];
const clients: pg.Client[] = [];

after(async () => {
  for (const client of clients) await client.end().catch(() => {});
  for (const store of stores) await store.cleanup();
});

async function setup() {
  const clock = new ManualClock(START);
  const store = new PostgresTestStore(clock, "within");
  stores.push(store);
  const storage = await store.open();
  const received: StorageSignal[] = [];
  storage.subscribe((signal) => received.push(signal));

  const client = new pg.Client(POSTGRES_URL);
  clients.push(client);
  await client.connect();
  // The application's own table, written in the same transaction as the tasks.
  await client.query(`CREATE TABLE "${store.schema}".orders (id text PRIMARY KEY)`);
  return { clock, store, storage, client, received };
}

describe("postgres: enqueue inside the application's transaction", { skip }, () => {
  test("a committed transaction stores its tasks and its own rows together", async () => {
    const { storage, client, store, received } = await setup();

    await client.query("BEGIN");
    await client.query(`INSERT INTO "${store.schema}".orders VALUES ('o-1')`);
    await storage.enqueueWithin(client, [newTask({ id: "ship-o-1", queue: "shipping" })]);

    // Not visible to anyone else, and nobody woken, before the commit.
    assert.equal(await storage.getTask("ship-o-1"), null);
    await sleep(50);
    assert.equal(received.length, 0);

    await client.query("COMMIT");
    assert.equal((await storage.getTask("ship-o-1"))?.state, "pending");
    assert.deepEqual(
      (await storage.taskEvents("ship-o-1")).map((e) => e.type),
      ["enqueued"],
    );
    const orders = await client.query(`SELECT id FROM "${store.schema}".orders`);
    assert.deepEqual(
      orders.rows.map((r) => r.id),
      ["o-1"],
    );
    await until(() => received.some((s) => s.type === "ready" && s.queue === "shipping"));
  });

  test("a rolled-back transaction leaves no task, no event and wakes nobody", async () => {
    const { storage, client, store, received } = await setup();

    await client.query("BEGIN");
    await client.query(`INSERT INTO "${store.schema}".orders VALUES ('o-2')`);
    await storage.enqueueWithin(client, [newTask({ id: "ship-o-2" }), newTask({ id: "mail-o-2" })]);
    await client.query("ROLLBACK");

    assert.equal(await storage.getTask("ship-o-2"), null);
    assert.equal(await storage.getTask("mail-o-2"), null);
    assert.deepEqual(await storage.eventsSince(0, 10), []);
    await sleep(100);
    assert.deepEqual(received, []);
  });

  test("the standalone enqueueWithin takes the schema and clock as options", async () => {
    const { storage, client, store, clock } = await setup();
    clock.advance(5_000);

    await client.query("BEGIN");
    await enqueueWithin(client, [newTask({ id: "later", runAt: START + 10_000 })], {
      schema: store.schema,
      clock,
    });
    await client.query("COMMIT");

    const record = await storage.getTask("later");
    assert.equal(record?.state, "scheduled");
    assert.equal((await storage.taskEvents("later"))[0]?.at, START + 5_000);
  });

  test("a duplicate id throws InvalidArgumentError and the transaction stores nothing", async () => {
    const { storage, client } = await setup();
    await storage.enqueue([newTask({ id: "taken" })]);

    await client.query("BEGIN");
    await assert.rejects(
      storage.enqueueWithin(client, [newTask({ id: "fresh" }), newTask({ id: "taken" })]),
      (error) => error instanceof InvalidArgumentError && /taken/.test(error.message),
    );
    await client.query("ROLLBACK");

    assert.equal(await storage.getTask("fresh"), null);
    assert.equal((await storage.listTasks()).length, 1);
  });

  test("a schema name that is not a plain identifier is refused before any SQL runs", async () => {
    const { client } = await setup();

    await assert.rejects(
      enqueueWithin(client, [newTask()], { schema: 'x"; DROP TABLE y; --' }),
      InvalidArgumentError,
    );
  });

  test("a failure of the application's connection comes back as StorageError", async () => {
    const { storage } = await setup();
    const closed = new pg.Client(POSTGRES_URL);
    await closed.connect();
    await closed.end();

    await assert.rejects(storage.enqueueWithin(closed, [newTask()]), StorageError);
    await assert.rejects(enqueueWithin(closed, [newTask()]), StorageError);
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await sleep(5);
  }
}

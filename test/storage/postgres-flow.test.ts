// PostgreSQL-only behaviour of keys, dependencies and queue controls that
// the shared contract cannot see: a schema of version 2 upgraded in place,
// a key taken by another transaction while an enqueue waits on it, keys
// and ids through `enqueueWithin`, and what a handle remembers about
// controls another handle changed.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { QueueControl } from "../../src/storage/contract.js";
import { openPostgresStorage } from "../../src/storage/postgres/index.js";
import { SCHEMA_VERSION } from "../../src/storage/postgres/migrate.js";
import { sqlNames } from "../../src/storage/postgres/names.js";
import { claimSql } from "../../src/storage/postgres/sql/claim.js";
import { heldKeysSql } from "../../src/storage/postgres/sql/enqueue-keyed.js";
import { MIGRATIONS } from "../../src/storage/postgres/sql/migrations.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, newTask, newTasks, START } from "../contract/builders.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { dropSchema, PostgresTestStore, uniqueSchema } from "./fixtures/postgres-store.js";

const skip = await skipUnless(POSTGRES);
const stores: PostgresTestStore[] = [];
const clients: pg.Client[] = [];
const schemas: string[] = [];
const open: QueueControl = { paused: false, concurrency: null, rateLimit: null };

after(async () => {
  for (const client of clients) await client.end().catch(() => {});
  for (const store of stores) await store.cleanup();
  for (const schema of schemas) await dropSchema(schema);
});

async function fresh(label: string) {
  const store = new PostgresTestStore(new ManualClock(START), label);
  stores.push(store);
  return { store, storage: await store.open() };
}

async function connect(): Promise<pg.Client> {
  const client = new pg.Client(POSTGRES_URL);
  clients.push(client);
  await client.connect();
  return client;
}

describe("postgres: keys, dependencies and controls beyond the contract", { skip }, () => {
  test("a schema of version 2 is upgraded in place; its tasks read with no key and no dependencies", async () => {
    const schema = uniqueSchema("upgrade");
    schemas.push(schema);
    const n = sqlNames(schema);
    const client = await connect();

    // The layout of the previous release, with a waiting and a finished task in it.
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(`CREATE TABLE ${n.migrations} (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    for (const [i, migration] of MIGRATIONS.slice(0, 2).entries()) {
      await client.query(migration(n));
      await client.query(`INSERT INTO ${n.migrations} (version) VALUES ($1)`, [i + 1]);
    }
    await client.query(
      `INSERT INTO ${n.tasks} (id, name, queue, priority, payload, run_at, created_at,
         max_attempts, result_ttl_ms, worker, state)
       VALUES ('old', 'x', 'default', 0, '[]', $1, $1, 1, 60000, 'async', 'pending')`,
      [START],
    );
    await client.query(
      `INSERT INTO ${n.finished} (id, seq, name, queue, priority, payload, run_at, created_at,
         max_attempts, result_ttl_ms, worker, state, attempts, lease_losses, token,
         finished_at, cancel_requested, delete_at)
       VALUES ('done', 0, 'x', 'default', 0, '[]', $1::bigint, $1, 1, 60000, 'async', 'failed',
         1, 0, 1, $1, false, $1 + 60000)`,
      [START],
    );

    const storage = await openPostgresStorage(POSTGRES_URL, {
      schema,
      clock: new ManualClock(START),
    });
    try {
      const { rows } = await client.query(`SELECT max(version) AS v FROM ${n.migrations}`);
      assert.equal(rows[0].v, SCHEMA_VERSION);
      assert.equal(SCHEMA_VERSION, 4);

      const old = await storage.getTask("old");
      assert.equal(old?.idempotencyKey, null);
      assert.equal(old?.dependencies, null);
      assert.equal((await storage.getTask("done"))?.idempotencyKey, null);

      // The old tasks take part in the new operations.
      assert.deepEqual(await storage.enqueue([newTask({ id: "new", idempotencyKey: "k" })]), [
        "new",
      ]);
      assert.equal(await storage.requeue("done"), "requeued");
      const claimed = await storage.claim(claimRequest({ limit: 5 }));
      assert.deepEqual(claimed.map((t) => t.id).sort(), ["done", "new", "old"]);
    } finally {
      await storage.close();
    }
  });

  test("an enqueue waiting on a key another transaction holds answers that task once it commits", async () => {
    const { store, storage } = await fresh("keyrace");
    const client = await connect();

    await client.query("BEGIN");
    await storage.enqueueWithin(client, [newTask({ id: "theirs", idempotencyKey: "k" })]);

    // Blocks on the unique index until the other transaction ends.
    const ours = storage.enqueue([
      newTask({ id: "ours", idempotencyKey: "k" }),
      newTask({ id: "ours-too", idempotencyKey: "k" }),
      newTask({ id: "plain" }),
    ]);
    await sleep(100);
    await client.query("COMMIT");

    assert.deepEqual(await ours, ["theirs", "theirs", "plain"]);
    assert.equal(await storage.getTask("ours"), null);
    assert.equal((await storage.getTask("plain"))?.state, "pending");
    const other = await store.open();
    assert.equal((await other.getTask("theirs"))?.idempotencyKey, "k");
  });

  test("an enqueue waiting on a key whose holder rolls back stores its own task", async () => {
    const { storage } = await fresh("keyrace");
    const client = await connect();

    await client.query("BEGIN");
    await storage.enqueueWithin(client, [newTask({ id: "theirs", idempotencyKey: "k" })]);
    const ours = storage.enqueue([newTask({ id: "ours", idempotencyKey: "k" })]);
    await sleep(100);
    await client.query("ROLLBACK");

    assert.deepEqual(await ours, ["ours"]);
    assert.equal((await storage.getTask("ours"))?.idempotencyKey, "k");
  });

  test("a lost key's holder is read from tasks, or the newest finished task with the key", async () => {
    const { store, storage } = await fresh("held");
    await storage.enqueue([
      newTask({ id: "old", idempotencyKey: "done" }),
      newTask({ id: "live", idempotencyKey: "live", queue: "elsewhere" }),
    ]);
    for (const id of ["old", "newer"]) {
      const [held] = await storage.claim(claimRequest({ limit: 1 }));
      assert.equal(held?.id, id);
      await storage.settle([completed(held)]);
      if (id === "old") await storage.enqueue([newTask({ id: "newer", idempotencyKey: "done" })]);
    }
    const client = await connect();

    const { rows } = await client.query(heldKeysSql(sqlNames(store.schema)), [
      ["done", "live", "nobody"],
    ]);

    assert.deepEqual(rows.map((row) => [row.key, row.id]).sort(), [
      ["done", "newer"],
      ["live", "live"],
    ]);
  });

  test("enqueueWithin answers ids and sees keys held in its own transaction and outside it", async () => {
    const { storage } = await fresh("within");
    const client = await connect();
    await storage.enqueue([newTask({ id: "stored", idempotencyKey: "outside" })]);

    await client.query("BEGIN");
    const first = await storage.enqueueWithin(client, [
      newTask({ id: "a", idempotencyKey: "inside" }),
      newTask({ id: "b", idempotencyKey: "outside" }),
      newTask({ id: "c", dependencies: { on: ["a"], pass: "none" } }),
    ]);
    const second = await storage.enqueueWithin(client, [
      newTask({ id: "d", idempotencyKey: "inside" }),
    ]);
    await client.query("COMMIT");

    assert.deepEqual(first, ["a", "stored", "c"]);
    assert.deepEqual(second, ["a"]);
    assert.equal((await storage.getTask("c"))?.state, "blocked");
    assert.equal(await storage.getTask("b"), null);
    assert.equal(await storage.getTask("d"), null);
  });

  test("the plain claim on a controlled queue reads no task and answers that it is controlled", async () => {
    const { store, storage } = await fresh("gate");
    await storage.enqueue(newTasks(3, "g", { queue: "g" }));
    await storage.setQueueControl("g", { ...open, concurrency: 10 });
    const client = await connect();
    const values = [START, ["async"], 10, "w", START + 30_000, ["g"], "g"];

    await client.query("BEGIN");
    const explained = await client.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${claimSql(sqlNames(store.schema), 1)}`,
      values,
    );
    await client.query("ROLLBACK");
    const plan = JSON.stringify(explained.rows[0]["QUERY PLAN"]);
    const scans = [...plan.matchAll(/"Index Name":"tasks_ready"[^}]*?"Actual Loops":(\d+)/g)];
    assert.ok(scans.length > 0, "the plan reads tasks_ready");
    assert.ok(
      scans.every((scan) => scan[1] === "0"),
      "tasks_ready is never read",
    );

    const { rows } = await client.query(claimSql(sqlNames(store.schema), 1), values);
    assert.deepEqual(
      rows.map((row) => [row.controlled, row.id]),
      [[true, null]],
    );
    assert.equal((await storage.countTasks()).g?.pending, 3);
  });

  test("a handle that knew a queue was controlled claims freely once another handle clears it", async () => {
    const { store, storage } = await fresh("controls");
    const other = await store.open();
    await storage.enqueue(newTasks(3, "p", { queue: "p" }));
    await storage.setQueueControl("p", { ...open, paused: true });
    assert.deepEqual(await storage.claim(claimRequest({ queues: ["p"] })), []);

    await other.setQueueControl("p", null);
    assert.equal((await storage.claim(claimRequest({ queues: ["p"], limit: 1 }))).length, 1);

    // And it notices a control set again elsewhere on its very next claim.
    await other.setQueueControl("p", { ...open, concurrency: 1 });
    assert.deepEqual(await storage.claim(claimRequest({ queues: ["p"] })), []);
  });

  test("a claim over a limited and an open queue fills up from the open one", async () => {
    const { storage } = await fresh("controls");
    await storage.enqueue([
      ...newTasks(5, "l", { queue: "l" }),
      ...newTasks(5, "o", { queue: "o" }),
    ]);
    await storage.setQueueControl("l", { ...open, concurrency: 2 });

    const claimed = await storage.claim(claimRequest({ queues: ["l", "o"], limit: 4 }));

    assert.deepEqual(
      claimed.map((t) => t.id),
      ["l-0", "l-1", "o-0", "o-1"],
    );
    const [done] = claimed;
    assert.ok(done);
    await storage.settle([completed(done)]);
    assert.deepEqual(
      (await storage.claim(claimRequest({ queues: ["l", "o"], limit: 2 }))).map((t) => t.id),
      ["l-2", "o-2"],
    );
  });

  test("a rate limit holds when many handles claim at once", async () => {
    const { store, storage } = await fresh("controls");
    const handles = [storage, ...(await Promise.all([1, 2, 3, 4].map(() => store.open())))];
    await storage.enqueue(newTasks(30, "r", { queue: "r" }));
    await storage.setQueueControl("r", { ...open, rateLimit: { max: 7, intervalMs: 60_000 } });

    const taken = await Promise.all(
      handles.map((handle, i) =>
        handle.claim(claimRequest({ queues: ["r"], limit: 3, owner: `w${i}` })),
      ),
    );

    assert.equal(taken.flat().length, 7);
  });
});

// Claims that wait on PostgreSQL (see src/storage/postgres/sql/handover.ts):
// the cases every backend with handovers runs (fixtures/handover-cases.ts),
// then what PostgreSQL adds: only an enqueue of one task hands over, and
// only one that nothing waiting should come before and that fits a NOTIFY;
// a message that never arrives strands nothing, since the owner's next claim
// finds the task; a busy worker claims without offers.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import pg from "pg";
import { sqlNames } from "../../src/storage/postgres/names.js";
import { OFFER_MS } from "../../src/storage/shared/handovers.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, START } from "../contract/builders.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { type HandoverStore, handedTo, handoverCases } from "./fixtures/handover-cases.js";
import { PostgresTestStore } from "./fixtures/postgres-store.js";

const skip = await skipUnless(POSTGRES);
const stores: PostgresTestStore[] = [];

after(async () => {
  for (const store of stores) await store.cleanup();
});

/** A worker's handle and a producer's handle on one fresh schema and clock. */
async function handles(
  clock = new ManualClock(START),
): Promise<HandoverStore & { store: PostgresTestStore }> {
  const store = new PostgresTestStore(clock, "handover");
  stores.push(store);
  const worker = await store.open();
  const producer = await store.open();
  return { store, worker, producer, clock };
}

/** Runs `sql` on the store's schema from a connection of the test's own. */
async function query(store: PostgresTestStore, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  try {
    return await client.query(sql.replaceAll("$schema", `"${store.schema}"`));
  } finally {
    await client.end();
  }
}

describe("postgres backend: claims that wait", { skip }, () => {
  handoverCases(handles);

  test("a batch, a task to come, a queue with controls or a task waiting: no handover", async () => {
    const { worker, producer } = await handles();
    await worker.claim(claimRequest({ owner: "w" }));

    await producer.enqueue([newTask({ id: "b1" }), newTask({ id: "b2" })]);
    await producer.enqueue([newTask({ id: "later", runAt: START + 10 })]);
    assert.equal((await producer.getTask("b1"))?.state, "pending");
    assert.equal((await producer.getTask("later"))?.state, "scheduled");
    // b1 and b2 wait: the next task must not overtake them.
    await producer.enqueue([newTask({ id: "behind" })]);
    assert.equal((await producer.getTask("behind"))?.state, "pending");

    await worker.claim(claimRequest({ owner: "c", queues: ["paused"] }));
    await producer.setQueueControl("paused", {
      paused: true,
      concurrency: null,
      rateLimit: null,
    });
    await producer.enqueue([newTask({ id: "held", queue: "paused" })]);
    assert.equal((await producer.getTask("held"))?.state, "pending");
  });

  test("a task too large for a NOTIFY payload waits to be claimed", async () => {
    const { worker, producer } = await handles();
    await worker.claim(claimRequest({ owner: "w" }));

    await producer.enqueue([newTask({ id: "big", payload: JSON.stringify(["x".repeat(7_000)]) })]);

    assert.equal((await producer.getTask("big"))?.state, "pending");
    assert.equal((await worker.claim(claimRequest({ owner: "w" })))[0]?.id, "big");
  });

  test("maintain deletes offers long past their time, left by handles that never closed", async () => {
    const { store, worker, producer, clock } = await handles();
    await worker.claim(claimRequest({ owner: "w" }));
    const offers = () => query(store, "SELECT owner FROM $schema.offers");
    assert.equal((await offers()).rowCount, 1);

    clock.advance(OFFER_MS + 60_001);
    await producer.maintain({ maxLeaseLosses: 5, eventTtlMs: 86_400_000 });

    assert.equal((await offers()).rowCount, 0);
  });

  test("a handover whose message never came is returned by the owner's next claim, once", async () => {
    const { store, worker, producer } = await handles();
    // An offer of the worker's owner naming a handle that listens nowhere:
    // the message goes to no one, as if the worker's connection had dropped.
    await query(
      store,
      `INSERT INTO $schema.offers VALUES ('w', 'nobody', '{default}', '{async}', 30000, ${START + 1_000})`,
    );

    await producer.enqueue([newTask({ id: "lost" })]);
    assert.equal((await producer.getTask("lost"))?.state, "running");

    const [found] = await worker.claim(claimRequest({ owner: "w" }));
    assert.equal(found?.id, "lost");
    assert.equal(found?.token, 1);
    assert.deepEqual(await worker.claim(claimRequest({ owner: "w" })), []);
  });

  test("a worker whose last claim took tasks leaves no offer until a claim finds nothing", async () => {
    const { store, worker, producer } = await handles();
    await producer.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    const offers = async () => (await query(store, "SELECT owner FROM $schema.offers")).rowCount;

    assert.equal((await worker.claim(claimRequest({ owner: "w", limit: 1 })))[0]?.id, "a");
    assert.equal(await offers(), 0);
    assert.equal((await worker.claim(claimRequest({ owner: "w", limit: 1 })))[0]?.id, "b");
    assert.equal(await offers(), 0);
    // Ran dry: the same call claims again, leaving an offer the next enqueue serves.
    assert.deepEqual(await worker.claim(claimRequest({ owner: "w", limit: 1 })), []);
    assert.equal(await offers(), 1);
    await handedTo(worker, () => producer.enqueue([newTask({ id: "c" })]));
    assert.equal((await producer.getTask("c"))?.state, "running");
  });

  test("a handover heard by message is not returned again by a claim", async () => {
    const { store, worker, producer } = await handles();
    await worker.claim(claimRequest({ owner: "w", limit: 1 }));
    await handedTo(worker, () => producer.enqueue([newTask({ id: "a" })]));
    const n = sqlNames(store.schema);
    assert.equal((await query(store, `SELECT handed FROM ${n.tasks}`)).rows[0]?.handed, true);

    assert.equal((await worker.claim(claimRequest({ owner: "w", limit: 1 })))[0]?.id, "a");
    // The server is asked now; it unmarks "a" without handing it out again.
    assert.deepEqual(await worker.claim(claimRequest({ owner: "w", limit: 1 })), []);
    assert.equal((await query(store, `SELECT handed FROM ${n.tasks}`)).rows[0]?.handed, false);
  });

  test("closing a handle deletes its offers", async () => {
    const { store, worker } = await handles();
    await worker.claim(claimRequest({ owner: "w" }));
    await worker.claim(claimRequest({ owner: "v", queues: ["other"] }));
    assert.equal((await query(store, "SELECT owner FROM $schema.offers")).rowCount, 2);

    await worker.close();

    assert.equal((await query(store, "SELECT owner FROM $schema.offers")).rowCount, 0);
  });
});

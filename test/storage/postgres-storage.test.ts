// PostgreSQL-only behaviour beyond the shared contract: batch lookups,
// settle batches that name a lease twice, signals too big for one NOTIFY,
// and the listener finding its way back after its connection is cut.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { StorageSignal } from "../../src/storage/contract.js";
import type { PostgresStorage } from "../../src/storage/postgres/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, failed, newTask, newTasks, START } from "../contract/builders.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { PostgresTestStore } from "./fixtures/postgres-store.js";

const skip = await skipUnless(POSTGRES);
const stores: PostgresTestStore[] = [];

after(async () => {
  for (const store of stores) await store.cleanup();
});

async function fresh(): Promise<{ storage: PostgresStorage; store: PostgresTestStore }> {
  const store = new PostgresTestStore(new ManualClock(START), "extra");
  stores.push(store);
  return { storage: await store.open(), store };
}

function record(storage: PostgresStorage): StorageSignal[] {
  const received: StorageSignal[] = [];
  storage.subscribe((signal) => received.push(signal));
  return received;
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await sleep(5);
  }
}

describe("postgres: beyond the contract", { skip }, () => {
  test("getOutcomes answers many tasks in the order asked, null for unknown ids", async () => {
    const { storage } = await fresh();
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.ok(held);
    await storage.settle([completed(held, '"done"')]);

    assert.deepEqual(await storage.getOutcomes(["nobody", "b", "a"]), [
      null,
      { state: "pending" },
      { state: "completed", result: '"done"' },
    ]);
    assert.deepEqual(await storage.getOutcomes([]), []);
  });

  test("hundreds of getOutcome calls at once each get their own task's answer", async () => {
    const { storage } = await fresh();
    await storage.enqueue(newTasks(300, "many"));
    const held = await storage.claim(claimRequest({ limit: 100 }));
    await storage.settle(held.map((t) => completed(t, JSON.stringify(t.id))));

    const ids = [...Array.from({ length: 300 }, (_, i) => `many-${i}`), "nobody"];
    const outcomes = await Promise.all(ids.map((id) => storage.getOutcome(id)));

    outcomes.slice(0, 100).forEach((o, i) => {
      assert.deepEqual(o, { state: "completed", result: JSON.stringify(`many-${i}`) });
    });
    assert.ok(outcomes.slice(100, 300).every((o) => o?.state === "pending"));
    assert.equal(outcomes[300], null);
  });

  test("times with a fraction of a millisecond are stored as whole milliseconds", async () => {
    const clock = new ManualClock(START + 0.4);
    const store = new PostgresTestStore(clock, "fraction");
    stores.push(store);
    const storage = await store.open();

    await storage.enqueue([newTask({ id: "f", runAt: START + 0.6, expiresAt: START + 9_999.5 })]);
    assert.equal((await storage.getTask("f"))?.state, "scheduled");
    clock.advance(0.5);
    const [held] = await storage.claim(claimRequest({ leaseMs: 100.7 }));

    assert.equal(held?.id, "f");
    assert.equal(held?.runAt, START + 1);
    assert.equal(held?.leaseExpiresAt, START + 1 + 101);
  });

  test("the same lease twice in one settle batch applies once", async () => {
    const { storage } = await fresh();
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);

    const applied = await storage.settle([completed(held, '"first"'), failed(held, null)]);

    assert.deepEqual(applied, [true, false]);
    assert.deepEqual(await storage.getOutcome("a"), { state: "completed", result: '"first"' });
  });

  test("a batch mixing retries and ends writes each task's events in input order", async () => {
    const { storage } = await fresh();
    await storage.enqueue(newTasks(3, "m"));
    const [a, b, c] = await storage.claim(claimRequest());
    assert.ok(a && b && c);

    const applied = await storage.settle([failed(a, START + 100), completed(b), failed(c, null)]);

    assert.deepEqual(applied, [true, true, true]);
    const later = (await storage.eventsSince(0, 100)).filter((e) => e.type !== "enqueued");
    assert.deepEqual(
      later.filter((e) => e.type !== "executing").map((e) => [e.taskId, e.type]),
      [
        ["m-0", "error"],
        ["m-0", "retry"],
        ["m-1", "completed"],
        ["m-2", "error"],
      ],
    );
    assert.equal((await storage.getTask("m-0"))?.state, "retrying");
  });

  test("finished ids too many for one NOTIFY arrive in several signals, none lost", async () => {
    const { storage } = await fresh();
    const received = record(storage);
    // Long ids: 600 of them are far over NOTIFY's 8,000-byte payload limit.
    const ids = Array.from({ length: 600 }, (_, i) => `${"x".repeat(60)}-${i}`);
    await storage.enqueue(ids.map((id) => newTask({ id })));
    const held = await storage.claim(claimRequest({ limit: 600 }));
    assert.equal(held.length, 600);

    await storage.settle(held.map((t) => completed(t)));

    const heard = new Set<string>();
    await until(() => {
      for (const s of received) if (s.type === "finished") for (const id of s.ids) heard.add(id);
      return heard.size === ids.length;
    });
    assert.ok(received.filter((s) => s.type === "finished").length > 1);
  });

  test("the listener reconnects after its connection is cut and says which queues to look at", {
    timeout: 30_000,
  }, async () => {
    const { storage, store } = await fresh();
    const other = await store.open({ listen: false });
    const received = record(storage);
    await other.enqueue([newTask({ queue: "seen" })]);
    await until(() => received.some((s) => s.type === "ready" && s.queue === "seen"));
    received.length = 0;

    const admin = new pg.Client(POSTGRES_URL);
    await admin.connect();
    try {
      const cut = await admin.query(
        `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity
         WHERE application_name = 'omniq' AND query = $1`,
        [`LISTEN "omniq.${store.schema}"`],
      );
      assert.deepEqual(
        cut.rows.map((r) => r.cut),
        [true],
      );
    } finally {
      await admin.end();
    }

    // Back: what may have been missed is announced, and new signals flow.
    await until(() => received.some((s) => s.type === "ready" && s.queue === "seen"), 10_000);
    await other.enqueue([newTask({ queue: "new" })]);
    await until(() => received.some((s) => s.type === "ready" && s.queue === "new"), 10_000);
  });

  test("a producer opened with listen: false works and holds no listening connection", async () => {
    const { store } = await fresh();
    const producer = await store.open({ listen: false });
    await producer.enqueue([newTask({ id: "p" })]);

    assert.equal((await producer.getTask("p"))?.state, "pending");
    const admin = new pg.Client(POSTGRES_URL);
    await admin.connect();
    try {
      const listeners = await admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = $1",
        [`LISTEN "omniq.${store.schema}"`],
      );
      // The fixture's first handle listens; the producer adds none.
      assert.equal(listeners.rows[0].n, 1);
    } finally {
      await admin.end();
    }
  });
});

// Several processes on one PostgreSQL store: no task runs twice, a killed
// worker loses nothing, a new schema opened by several processes at once is
// created once, and signals cross from one process to another.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { StorageSignal } from "../../src/storage/contract.js";
import { SCHEMA_VERSION } from "../../src/storage/postgres/migrate.js";
import { ManualClock } from "../../src/util/clock.js";
import { newTask } from "../contract/builders.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { PostgresTestStore } from "./fixtures/postgres-store.js";
import {
  exitCode,
  killJobs,
  messageFrom,
  runsPerTask,
  startJob,
  until,
} from "./fixtures/store-jobs.js";

const skip = await skipUnless(POSTGRES);

let dir: string;
const stores: PostgresTestStore[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-pg-processes-"));
});

after(async () => {
  killJobs();
  for (const store of stores) await store.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function newStore(label: string, clock?: ManualClock): PostgresTestStore {
  const store = new PostgresTestStore(clock, label);
  stores.push(store);
  return store;
}

/** A task due now by the system clock, as the children's clocks read it. */
function dueNow(id: string, queue: string) {
  return newTask({ id, queue, runAt: Date.now(), createdAt: Date.now(), resultTtlMs: 600_000 });
}

describe("postgres: several processes on one store", { skip }, () => {
  test("3 processes draining 3,000 tasks run each exactly once", { timeout: 120_000 }, async () => {
    const store = newStore("drain");
    const producer = await store.open();
    const logs = [0, 1, 2].map((i) => join(dir, `drain-${i}.log`));

    // Woken by NOTIFY when tasks come, or after 50 ms at the latest.
    const drainers = logs.map((log) =>
      startJob(store.storeUrl, {
        job: "drain",
        queue: "shared",
        limit: 25,
        until: "finish",
        idleMs: 50,
        wakeOnReady: true,
        log,
      }),
    );
    await Promise.all(drainers.map((child) => messageFrom(child, (m) => m === "ready")));

    // Enqueued while the children already claim, so they compete for them.
    for (let batch = 0; batch < 30; batch++) {
      await producer.enqueue(
        Array.from({ length: 100 }, (_, i) => dueNow(`t-${batch * 100 + i}`, "shared")),
      );
    }
    for (const child of drainers) child.send("finish");
    assert.deepEqual(await Promise.all(drainers.map(exitCode)), [0, 0, 0]);

    const runs = await runsPerTask(logs);
    assert.equal(runs.size, 3_000);
    assert.deepEqual(
      [...runs.values()].filter((n) => n !== 1),
      [],
      "no task ran twice",
    );
    assert.deepEqual(await producer.countTasks(), { shared: { completed: 3_000 } });
  });

  test("a task held by a process killed with SIGKILL is taken over after its lease", {
    timeout: 60_000,
  }, async () => {
    const clock = new ManualClock(Date.now());
    const store = newStore("killed", clock);
    const storage = await store.open();
    await storage.enqueue([dueNow("doomed-1", "doomed")]);

    const holder = startJob(store.storeUrl, { job: "hold", queue: "doomed", leaseMs: 500 });
    const held = await messageFrom<{ id: string; token: number }>(holder);
    assert.deepEqual(held, { id: "doomed-1", token: 1 });
    holder.kill("SIGKILL");
    assert.equal(await exitCode(holder), null);

    // Nothing to return while the lease runs, even with its holder dead.
    const options = { maxLeaseLosses: 3, eventTtlMs: 3_600_000 };
    assert.equal((await storage.maintain(options)).leasesExpired, 0);

    clock.set(Date.now() + 1_000);
    assert.equal((await storage.maintain(options)).leasesExpired, 1);

    const other = await store.open();
    const [task] = await other.claim({
      queues: ["doomed"],
      workers: ["async"],
      limit: 1,
      owner: "survivor",
      leaseMs: 30_000,
    });
    assert.equal(task?.id, "doomed-1");
    assert.equal(task?.token, 2);
    assert.equal(task?.leaseLosses, 1);
    assert.deepEqual(
      await other.settle([{ id: "doomed-1", token: 2, outcome: "completed", result: "3" }]),
      [true],
    );
    assert.deepEqual(
      await storage.settle([{ id: "doomed-1", token: 1, outcome: "completed", result: "4" }]),
      [false],
    );
    assert.equal((await storage.getOutcome("doomed-1"))?.result, "3");
  });

  test("4 processes opening a new schema at once create it once", { timeout: 60_000 }, async () => {
    const store = newStore("race");
    const openers = [0, 1, 2, 3].map((i) =>
      startJob(store.storeUrl, { job: "open", queue: "opened", id: `opener-${i}` }),
    );
    // All have loaded their code before any is told to open, so they open together.
    await Promise.all(openers.map((child) => messageFrom(child, (m) => m === "loaded")));

    const opened = openers.map((child) => messageFrom(child, (m) => m === "opened"));
    for (const child of openers) child.send("go");
    await Promise.all(opened);
    assert.deepEqual(await Promise.all(openers.map(exitCode)), [0, 0, 0, 0]);

    const client = new pg.Client(POSTGRES_URL);
    await client.connect();
    try {
      const versions = await client.query(
        `SELECT version FROM "${store.schema}".migrations ORDER BY version`,
      );
      assert.deepEqual(
        versions.rows.map((r) => r.version),
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      const ids = await client.query(`SELECT id FROM "${store.schema}".tasks ORDER BY id`);
      assert.deepEqual(
        ids.rows.map((r) => r.id),
        ["opener-0", "opener-1", "opener-2", "opener-3"],
      );
    } finally {
      await client.end();
    }
  });

  test("signals cross processes: ready and finished from another process", {
    timeout: 60_000,
  }, async () => {
    const store = newStore("signals");
    const storage = await store.open();
    const received: StorageSignal[] = [];
    const unsubscribe = storage.subscribe((signal) => received.push(signal));

    const producer = startJob(store.storeUrl, { job: "produce", queue: "cross", id: "crossing" });
    await messageFrom(producer, (m) => m === "enqueued");
    await until(() => received.some((s) => s.type === "ready" && s.queue === "cross"));

    producer.send("complete");
    await messageFrom(producer, (m) => m === "completed");
    await until(() => received.some((s) => s.type === "finished" && s.ids.includes("crossing")));
    assert.equal(await exitCode(producer), 0);
    unsubscribe();
  });
});

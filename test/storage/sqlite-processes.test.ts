// Several processes on one SQLite file: no task runs twice, a killed worker
// loses nothing, a new file opened by several processes at once gets its
// schema once, and signals cross from one process to another.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { SCHEMA_VERSION } from "../../src/storage/sqlite/schema.js";
import { ManualClock } from "../../src/util/clock.js";
import { newTask } from "../contract/builders.js";
import {
  exitCode,
  killJobs,
  messageFrom,
  runsPerTask,
  startJob,
  until,
} from "./fixtures/store-jobs.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-sqlite-processes-"));
});

after(async () => {
  killJobs();
  await rm(dir, { recursive: true, force: true });
});

/** A task due now by the system clock, as the children's clocks read it. */
function dueNow(id: string, queue: string) {
  return newTask({ id, queue, runAt: Date.now(), createdAt: Date.now(), resultTtlMs: 600_000 });
}

describe("sqlite: several processes on one file", () => {
  test("3 processes draining 3,000 tasks run each exactly once", { timeout: 120_000 }, async () => {
    const url = `sqlite://${join(dir, "drain.db")}`;
    const producer = await openSqliteStorage(url);
    const logs = [0, 1, 2].map((i) => join(dir, `drain-${i}.log`));

    // The pause after each batch lets the other processes take the write lock.
    const drainers = logs.map((log) =>
      startJob(url, { job: "drain", queue: "shared", limit: 10, until: "finish", pauseMs: 0, log }),
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
    await producer.close();
  });

  test("a task held by a process killed with SIGKILL is taken over after its lease", {
    timeout: 60_000,
  }, async () => {
    const url = `sqlite://${join(dir, "killed.db")}`;
    const clock = new ManualClock(Date.now());
    const storage = await openSqliteStorage(url, { clock });
    await storage.enqueue([dueNow("doomed-1", "doomed")]);

    const holder = startJob(url, { job: "hold", queue: "doomed", leaseMs: 500 });
    const held = await messageFrom<{ id: string; token: number }>(holder);
    assert.deepEqual(held, { id: "doomed-1", token: 1 });
    holder.kill("SIGKILL");
    assert.equal(await exitCode(holder), null);

    // Nothing to return while the lease runs, even with its holder dead.
    const options = { maxLeaseLosses: 3, eventTtlMs: 3_600_000 };
    assert.equal((await storage.maintain(options)).leasesExpired, 0);

    clock.set(Date.now() + 1_000);
    assert.equal((await storage.maintain(options)).leasesExpired, 1);

    const other = await openSqliteStorage(url, { clock });
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
    await other.close();
    await storage.close();
  });

  test("4 processes opening a new file at once create its schema once", {
    timeout: 60_000,
  }, async () => {
    const path = join(dir, "fresh", "race.db");
    const openers = [0, 1, 2, 3].map((i) =>
      startJob(`sqlite://${path}`, { job: "open", queue: "opened", id: `opener-${i}` }),
    );
    // All have loaded their code before any is told to open, so they open together.
    await Promise.all(openers.map((child) => messageFrom(child, (m) => m === "loaded")));

    const opened = openers.map((child) => messageFrom(child, (m) => m === "opened"));
    for (const child of openers) child.send("go");
    await Promise.all(opened);
    assert.deepEqual(await Promise.all(openers.map(exitCode)), [0, 0, 0, 0]);

    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      const ids = db.prepare("SELECT id FROM omniq_tasks ORDER BY id").pluck().all();
      assert.deepEqual(ids, ["opener-0", "opener-1", "opener-2", "opener-3"]);
    } finally {
      db.close();
    }
  });

  test("signals cross processes: ready and finished from another process", {
    timeout: 60_000,
  }, async () => {
    const url = `sqlite://${join(dir, "signals.db")}`;
    const storage: Storage = await openSqliteStorage(url);
    const received: StorageSignal[] = [];
    const unsubscribe = storage.subscribe?.((signal) => received.push(signal));
    assert.ok(unsubscribe);

    const producer = startJob(url, { job: "produce", queue: "cross", id: "crossing" });
    await messageFrom(producer, (m) => m === "enqueued");
    await until(() => received.some((s) => s.type === "ready" && s.queue === "cross"));

    producer.send("complete");
    await messageFrom(producer, (m) => m === "completed");
    await until(() => received.some((s) => s.type === "finished" && s.ids.includes("crossing")));
    assert.equal(await exitCode(producer), 0);

    unsubscribe();
    await storage.close();
  });
});

// The PostgreSQL backend when its server goes away: operations fail with
// StorageError instead of hanging, nothing reaches the process as an
// unhandled error, and after the server returns the same handles work on,
// listener included, having lost no task. Each test runs its own server on a
// free port (see fixtures/postgres-server.ts), never the shared one.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { StorageError } from "../../src/errors.js";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { openPostgresStorage, type PostgresStorage } from "../../src/storage/postgres/index.js";
import { newTask } from "../contract/builders.js";
import { POSTGRES, skipUnless } from "../helpers/services.js";
import { type PrivatePostgres, postgresBin, privatePostgres } from "./fixtures/postgres-server.js";

// The shared server answering means PostgreSQL is installed here.
const bin = postgresBin();
const skip = (await skipUnless(POSTGRES)) || (bin ? false : "PostgreSQL binaries not found");
const TOTAL = 600;
const MAINTAIN = { maxLeaseLosses: 100, eventTtlMs: 86_400_000 };

let server: PrivatePostgres;
const handles: PostgresStorage[] = [];

before(async () => {
  if (skip || !bin) return;
  server = await privatePostgres(bin);
  await server.start();
});

after(async () => {
  for (const handle of handles) await handle.close();
  await server?.remove();
});

async function open(): Promise<PostgresStorage> {
  const storage = await openPostgresStorage(server.url, {
    schema: "outage",
    maxConnections: 4,
    connectTimeoutMs: 2_000,
    queryTimeoutMs: 5_000,
  });
  handles.push(storage);
  return storage;
}

function dueNow(id: string, queue = "default") {
  return newTask({ id, queue, runAt: Date.now(), createdAt: Date.now(), resultTtlMs: 3_600_000 });
}

interface LoopStats {
  executions: number;
  errors: number;
}

/** Claims and completes until `done()`; a StorageError is counted and waited out. */
async function workLoop(storage: Storage, done: () => boolean, stats: LoopStats): Promise<void> {
  while (!done()) {
    try {
      const claimed = await storage.claim({
        queues: ["default"],
        workers: ["async"],
        limit: 20,
        owner: "loop",
        leaseMs: 1_500,
      });
      if (claimed.length === 0) {
        // Tasks whose settle was lost in the outage come back when their lease runs out.
        await storage.maintain(MAINTAIN);
        await sleep(50);
        continue;
      }
      stats.executions += claimed.length;
      await storage.settle(
        claimed.map((t) => ({
          id: t.id,
          token: t.token,
          outcome: "completed" as const,
          result: "1",
        })),
      );
    } catch (error) {
      assert.ok(error instanceof StorageError, `not a StorageError: ${error}`);
      stats.errors += 1;
      await sleep(100);
    }
  }
}

async function completedCount(storage: Storage): Promise<number> {
  try {
    return (await storage.countTasks()).default?.completed ?? 0;
  } catch {
    return -1;
  }
}

/** Rejects if `promise` has not settled within `ms`: an operation must never hang. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

describe("postgres: server outages", { skip }, () => {
  test("claim and settle loops ride out a server crash: every task completes", {
    timeout: 120_000,
  }, async () => {
    const worker = await open();
    const producer = await open();
    const signals: StorageSignal[] = [];
    worker.subscribe((signal) => signals.push(signal));
    for (let i = 0; i < TOTAL; i += 100) {
      await producer.enqueue(Array.from({ length: 100 }, (_, j) => dueNow(`t-${i + j}`)));
    }

    let finished = false;
    const stats: LoopStats = { executions: 0, errors: 0 };
    const loops = [0, 1].map(() => workLoop(worker, () => finished, stats));
    while ((await completedCount(producer)) < 100) await sleep(5);

    await server.stop("immediate");
    await assert.rejects(
      within(
        worker.claim({ queues: ["default"], workers: ["async"], limit: 1, owner: "x", leaseMs: 1 }),
        10_000,
      ),
      StorageError,
    );
    await assert.rejects(within(producer.getTask("t-0"), 10_000), StorageError);
    await sleep(300);
    await server.start();

    const deadline = Date.now() + 60_000;
    while ((await completedCount(producer)) < TOTAL && Date.now() < deadline) await sleep(50);
    finished = true;
    await Promise.all(loops);

    assert.deepEqual(await producer.countTasks(), { default: { completed: TOTAL } });
    assert.ok(stats.errors > 0, "the loops saw the outage");
    assert.ok(stats.executions >= TOTAL);

    // The listener is back too: a new task from the other handle wakes this
    // one. It may still be in its reconnect backoff (2 s at most), and what is
    // sent meanwhile is not heard, so a task is enqueued every half second
    // until one is.
    const heard = () => signals.some((s) => s.type === "ready" && s.queue === "after");
    for (let i = 0; i < 60 && !heard(); i++) {
      await producer.enqueue([dueNow(`after-restart-${i}`, "after")]);
      await sleep(500);
    }
    assert.ok(heard(), "no ready signal reached the worker's handle within 30 s of the restart");
  });

  test("a handle opened while the server is down fails at once with StorageError", {
    timeout: 60_000,
  }, async () => {
    await server.stop("fast");
    try {
      await assert.rejects(within(open(), 10_000), StorageError);
    } finally {
      await server.start();
    }
    const storage = await open();
    // A queue of its own: the last test's idle workers may still have an
    // offer standing on "default", which would take the task at once.
    await storage.enqueue([dueNow("back", "back")]);
    assert.equal((await storage.getTask("back"))?.state, "pending");
  });
});

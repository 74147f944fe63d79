// Keys and queue controls over several processes on one PostgreSQL store:
// the same keys enqueued by every process at once store one task each, and
// a concurrency limit holds while processes claim and settle side by side.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { newTasks } from "../contract/builders.js";
import { POSTGRES, skipUnless } from "../helpers/services.js";
import { type ClaimStep, type EnqueueStep, killRacers, race } from "./fixtures/flow-race.js";
import { PostgresTestStore } from "./fixtures/postgres-store.js";

const skip = await skipUnless(POSTGRES);

const stores: PostgresTestStore[] = [];

after(async () => {
  killRacers();
  for (const store of stores) await store.cleanup();
});

/** The most intervals `[start, end]` that overlap at any one time. */
function mostAtOnce(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  // At equal times an end comes first: touching intervals did not overlap.
  edges.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step as number;
    most = Math.max(most, now);
  }
  return most;
}

describe("postgres: keys and controls over several processes", { skip }, () => {
  test("4 processes enqueueing the same 50 keys at once store one task per key", {
    timeout: 60_000,
  }, async () => {
    const store = new PostgresTestStore(undefined, "flowkeys");
    stores.push(store);
    const storage = await store.open();

    // Each enqueues the keys k-0 … k-49, one call a task, 4 calls in flight at a time: that
    // many race each other, and a process takes no more than 4 of the server's connections.
    const writers = [0, 1, 2, 3].map(
      (writer): EnqueueStep => ({
        step: "enqueue",
        queue: "keyed",
        tasks: Array.from({ length: 50 }, (_, i) => ({ id: `w${writer}-${i}`, key: `k-${i}` })),
        atOnce: 4,
      }),
    );
    // race() also fails unless every process exits with 0.
    const replies = await race(store.storeUrl, writers);

    const stored = await storage.listTasks({ queue: "keyed", limit: 1_000 });
    assert.equal(stored.length, 50);
    const holders = new Map(stored.map((task) => [task.idempotencyKey, task.id]));
    for (const answers of replies) {
      assert.deepEqual(
        answers,
        answers.map((_, i) => holders.get(`k-${i}`)),
      );
    }
  });

  test("a concurrency limit of 3 holds over 4 processes claiming and settling", {
    timeout: 120_000,
  }, async () => {
    const store = new PostgresTestStore(undefined, "flowlimit");
    stores.push(store);
    const storage = await store.open();
    await storage.enqueue(newTasks(60, "l", { queue: "limited", runAt: Date.now() }));
    await storage.setQueueControl("limited", { paused: false, concurrency: 3, rateLimit: null });

    // Each claims (limit 2) until nothing waits, holds each batch 10 ms and settles it.
    const worker: ClaimStep = {
      step: "claim",
      queue: "limited",
      limit: 2,
      leaseMs: 60_000,
      until: "drained",
      pauseMs: 2,
      settleAfterMs: 10,
    };
    // race() also fails unless every process exits with 0.
    const held = (await race(store.storeUrl, [worker, worker, worker, worker])).flatMap(
      (claims) => claims.held,
    );

    assert.equal(held.length, 60, "every task ran once");
    const most = mostAtOnce(held.map(({ start, end }) => [start, end]));
    assert.ok(most <= 3, `${most} tasks ran at once`);
    assert.ok(most >= 2, "the processes did run side by side");
    assert.deepEqual(await storage.countTasks(), { limited: { completed: 60 } });
  });
});

// Claims that wait (see src/storage/redis/scripts/offers.ts): a claim that
// finds nothing leaves an offer, an enqueue leases what it makes ready to the
// offering owner at once, and the owner's next claim returns it without a
// round trip. What is handed over and not taken goes back to its queue.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { HOLD_MS, OFFER_MS, RedisHandovers } from "../../src/storage/redis/handovers.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import { SignalHub } from "../../src/storage/redis/signals.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, newTasks, START } from "../contract/builders.js";
import { recordSignals } from "../contract/harness.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";

const skip = await skipUnless(REDIS);

/** A worker's handle and a producer's handle on one fresh prefix and clock. */
async function withHandles(
  body: (worker: Storage, producer: Storage, clock: ManualClock, prefix: string) => Promise<void>,
): Promise<void> {
  const prefix = testPrefix("handover");
  const clock = new ManualClock(START);
  const worker = await openRedisStorage(REDIS_URL, { prefix, clock });
  const producer = await openRedisStorage(REDIS_URL, { prefix, clock });
  try {
    await body(worker, producer, clock, prefix);
  } finally {
    await Promise.all([worker.close(), producer.close()]);
    await deleteKeys(REDIS_URL, prefix);
  }
}

const readyFor = (queue: string) => (s: StorageSignal) => s.type === "ready" && s.queue === queue;

/** Waits until `owner`'s handle holds a handover, as its ready signal says. */
async function handedTo(worker: Storage, act: () => Promise<unknown>): Promise<void> {
  const log = recordSignals(worker);
  try {
    await act();
    await log.waitFor(readyFor("default"));
  } finally {
    log.stop();
  }
}

describe("redis backend: claims that wait", { skip }, () => {
  test("an enqueue leases its task to the claim that found nothing, and the owner's next claim returns it", async () => {
    await withHandles(async (worker, producer) => {
      assert.deepEqual(await worker.claim(claimRequest({ owner: "w" })), []);

      await handedTo(worker, () => producer.enqueue([newTask({ id: "a" })]));
      const record = await producer.getTask("a");
      assert.equal(record?.state, "running");
      assert.equal(record?.leaseOwner, "w");
      assert.equal(record?.leaseExpiresAt, START + 30_000);

      const [claimed] = await worker.claim(claimRequest({ owner: "w" }));
      assert.equal(claimed?.id, "a");
      assert.equal(claimed?.attempts, 1);
      assert.equal(claimed?.token, 1);
      assert.equal(claimed?.leaseOwner, "w");
      assert.equal(claimed?.startedAt, START);
      assert.deepEqual(
        (await producer.taskEvents("a")).map((e) => e.type),
        ["enqueued", "executing"],
      );
      assert.deepEqual(await producer.countTasks(), { default: { running: 1 } });
    });
  });

  test("another owner's claim does not get a task handed over", async () => {
    await withHandles(async (worker, producer) => {
      await worker.claim(claimRequest({ owner: "w" }));
      await handedTo(worker, () => producer.enqueue([newTask({ id: "a" })]));

      assert.deepEqual(await producer.claim(claimRequest({ owner: "other" })), []);
      assert.deepEqual(await worker.claim(claimRequest({ owner: "other" })), []);
      assert.equal((await worker.claim(claimRequest({ owner: "w" })))[0]?.id, "a");
    });
  });

  test("an offer takes at most its claim's limit; the rest wait with a ready signal", async () => {
    await withHandles(async (worker, producer) => {
      await worker.claim(claimRequest({ owner: "w", limit: 2 }));
      const elsewhere = recordSignals(producer);

      await handedTo(worker, () => producer.enqueue(newTasks(3, "t")));

      const counts = await producer.countTasks();
      assert.deepEqual(counts, { default: { running: 2, pending: 1 } });
      await elsewhere.waitFor(readyFor("default"));
      elsewhere.stop();
      // The handed tasks come first; the claim may also take t-2, should the
      // ready signal have come before the handover.
      const ids = (await worker.claim(claimRequest({ owner: "w", limit: 5 }))).map((t) => t.id);
      assert.deepEqual(ids.slice(0, 2), ["t-0", "t-1"]);
      assert.ok(ids.length === 2 || ids[2] === "t-2", `then t-2 or nothing: ${ids}`);
    });
  });

  test("a handover follows the offer's queue order and the tasks' priorities", async () => {
    await withHandles(async (worker, producer) => {
      await worker.claim(claimRequest({ owner: "w", queues: ["high", "low"], limit: 2 }));

      const log = recordSignals(worker);
      await producer.enqueue([
        newTask({ id: "low-1", queue: "low", priority: 9 }),
        newTask({ id: "high-1", queue: "high", priority: 1 }),
        newTask({ id: "high-2", queue: "high", priority: 5 }),
      ]);
      await log.waitFor(readyFor("high"));
      log.stop();

      const claimed = await worker.claim(claimRequest({ owner: "w", queues: ["high", "low"] }));
      assert.deepEqual(
        claimed.map((t) => t.id),
        ["high-2", "high-1"],
      );
      assert.equal((await producer.getTask("low-1"))?.state, "pending");
    });
  });

  test("a task already waiting for the offer is handed over before a new one", async () => {
    await withHandles(async (worker, producer) => {
      await producer.enqueue([newTask({ id: "older" })]);
      const [held] = await producer.claim(claimRequest({ owner: "p" }));
      assert.ok(held);
      await worker.claim(claimRequest({ owner: "w", limit: 1 }));
      // Released tasks wait in their ready set; release does not serve offers.
      await producer.release([held]);

      await handedTo(worker, () => producer.enqueue([newTask({ id: "newer" })]));

      assert.equal((await producer.getTask("newer"))?.state, "pending");
      const [claimed] = await worker.claim(claimRequest({ owner: "w", limit: 1 }));
      assert.equal(claimed?.id, "older");
      assert.equal(claimed?.token, 2);
    });
  });

  test("a delayed task that came due is handed over before a new one", async () => {
    await withHandles(async (worker, producer, clock) => {
      await producer.enqueue([newTask({ id: "delayed", runAt: START + 10 })]);
      await worker.claim(claimRequest({ owner: "w", limit: 1 }));
      clock.advance(10);

      await handedTo(worker, () => producer.enqueue([newTask({ id: "new", runAt: START + 10 })]));

      assert.equal((await producer.getTask("new"))?.state, "pending");
      assert.equal((await worker.claim(claimRequest({ owner: "w", limit: 1 })))[0]?.id, "delayed");
    });
  });

  test("the same handle's enqueue hands over in its answer", async () => {
    await withHandles(async (worker) => {
      await worker.claim(claimRequest({ owner: "w" }));
      await worker.enqueue([newTask({ id: "a" })]);

      // No signal to wait for: the answer already brought the task.
      assert.equal((await worker.claim(claimRequest({ owner: "w" })))[0]?.id, "a");
    });
  });

  test("an offer is served once, and a claim that finds tasks leaves none", async () => {
    await withHandles(async (worker, producer) => {
      await worker.claim(claimRequest({ owner: "w", limit: 1 }));
      await handedTo(worker, () => producer.enqueue([newTask({ id: "a" })]));
      await producer.enqueue([newTask({ id: "b" })]);
      assert.equal((await producer.getTask("b"))?.state, "pending");

      assert.equal((await worker.claim(claimRequest({ owner: "w", limit: 1 })))[0]?.id, "a");
      assert.equal((await worker.claim(claimRequest({ owner: "w", limit: 1 })))[0]?.id, "b");
      await producer.enqueue([newTask({ id: "c" })]);
      assert.equal((await producer.getTask("c"))?.state, "pending");
    });
  });

  test("an offer past its time is not served", async () => {
    await withHandles(async (worker, producer, clock) => {
      await worker.claim(claimRequest({ owner: "w" }));
      clock.advance(OFFER_MS);

      await producer.enqueue([newTask({ id: "a", runAt: START + OFFER_MS })]);

      assert.equal((await producer.getTask("a"))?.state, "pending");
    });
  });

  test("maintain withdraws offers past their time, left by handles that never closed", async () => {
    await withHandles(async (worker, producer, clock, prefix) => {
      await worker.claim(claimRequest({ owner: "gone" }));
      const client = new Redis(REDIS_URL);
      try {
        assert.equal(await client.hlen(`${prefix}:offers`), 1);
        clock.advance(OFFER_MS);

        await producer.maintain({ maxLeaseLosses: 5, eventTtlMs: 86_400_000 });

        assert.equal(await client.hlen(`${prefix}:offers`), 0);
        assert.equal(await client.zcard(`${prefix}:idle:default:async`), 0);
      } finally {
        client.disconnect();
      }
    });
  });

  test("a handover nobody takes goes back to its queue, the attempt not counted", async () => {
    await withHandles(async (worker, producer) => {
      await worker.claim(claimRequest({ owner: "w" }));
      await handedTo(worker, () => producer.enqueue([newTask({ id: "a" })]));

      await sleep(HOLD_MS * 2 + 200);

      const record = await producer.getTask("a");
      assert.equal(record?.state, "pending");
      assert.equal(record?.attempts, 0);
      const [again] = await producer.claim(claimRequest({ owner: "other" }));
      assert.equal(again?.id, "a");
      assert.equal(again?.attempts, 1);
      assert.equal(again?.token, 2);
    });
  });

  test("closing a handle hands back what it kept and withdraws its offers", async () => {
    const prefix = testPrefix("handover");
    const clock = new ManualClock(START);
    const producer = await openRedisStorage(REDIS_URL, { prefix, clock });
    try {
      const worker = await openRedisStorage(REDIS_URL, { prefix, clock });
      await worker.claim(claimRequest({ owner: "w", limit: 1 }));
      await worker.claim(claimRequest({ owner: "v", queues: ["other"] }));
      await handedTo(worker, () => producer.enqueue([newTask({ id: "a" })]));
      await worker.close();

      assert.equal((await producer.getTask("a"))?.state, "pending");
      await producer.enqueue([newTask({ id: "b", queue: "other" })]);
      assert.equal((await producer.getTask("b"))?.state, "pending");
    } finally {
      await producer.close();
      await deleteKeys(REDIS_URL, prefix);
    }
  });
});

describe("redis backend: handover messages", () => {
  test("a message that is not a handover is dropped without a signal", () => {
    const hub = new SignalHub("me");
    const heard: StorageSignal[] = [];
    hub.add((signal) => heard.push(signal));
    const handovers = new RedisHandovers(hub, async () => {});

    const stored = ["a", "name", "default", 0, "[]", 1, 1, 1, null, null, 1, null, "async", null];
    for (const message of [
      "not json",
      "{}",
      JSON.stringify({ owner: "w", lease: 1, at: 1, tasks: [] }),
      JSON.stringify({ owner: "w", lease: 1, at: 1, tasks: [[stored, 1, 1, 1, 0, 0]] }),
      JSON.stringify({ owner: "w", lease: 1, at: 1, tasks: [["a", 1, 1, 1, 0, 0, null]] }),
      JSON.stringify({ owner: "w", lease: 1, at: 1, tasks: [[[7], 1, 1, 1, 0, 0, null]] }),
      JSON.stringify({ owner: "w", lease: 1, at: 1, tasks: [[stored, "1", 1, 1, 0, 0, null]] }),
      JSON.stringify({ owner: 7, lease: 1, at: 1, tasks: [[stored, 1, 1, 1, 0, 0, null]] }),
    ]) {
      handovers.receive(message);
    }

    assert.deepEqual(heard, []);
    assert.deepEqual(handovers.take("w", 10), []);

    // The same shape, well formed, is kept and announced.
    handovers.receive(
      JSON.stringify({ owner: "w", lease: 9, at: 2, tasks: [[stored, 1, 1, 1, 0, 0, null]] }),
    );
    assert.deepEqual(heard, [{ type: "ready", queue: "default" }]);
    const [task] = handovers.take("w", 10);
    assert.equal(task?.id, "a");
    assert.equal(task?.leaseExpiresAt, 9);
    assert.equal(task?.startedAt, 2);
    handovers.takeAll();
  });
});

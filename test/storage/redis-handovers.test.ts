// Claims that wait on Redis (see src/storage/redis/scripts/offers.ts): the
// cases every backend with handovers runs (fixtures/handover-cases.ts), then
// what Redis adds: a batch enqueue serves offers too, through the claim's
// own code, so limits, queue order, priorities and waiting tasks decide what
// it hands over; the enqueuing handle's own offer is served in its answer.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { OFFER_MS, RedisHandovers } from "../../src/storage/redis/handovers.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import { SignalHub } from "../../src/storage/redis/signals.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, newTasks, START } from "../contract/builders.js";
import { recordSignals } from "../contract/harness.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";
import { type HandoverStore, handedTo, handoverCases } from "./fixtures/handover-cases.js";

const skip = await skipUnless(REDIS);
const prefixes: string[] = [];
const opened: Storage[] = [];

after(async () => {
  await Promise.all(opened.map((handle) => handle.close()));
  for (const prefix of prefixes) await deleteKeys(REDIS_URL, prefix);
});

/** A worker's handle and a producer's handle on one fresh prefix and clock. */
async function open(): Promise<HandoverStore & { prefix: string }> {
  const prefix = testPrefix("handover");
  prefixes.push(prefix);
  const clock = new ManualClock(START);
  const worker = await openRedisStorage(REDIS_URL, { prefix, clock });
  const producer = await openRedisStorage(REDIS_URL, { prefix, clock });
  opened.push(worker, producer);
  return { worker, producer, clock, prefix };
}

const readyFor = (queue: string) => (s: StorageSignal) => s.type === "ready" && s.queue === queue;

/** Runs `body` on a fresh store (closed and removed once the file's tests end). */
async function using(body: (store: Awaited<ReturnType<typeof open>>) => Promise<void>) {
  await body(await open());
}

describe("redis backend: claims that wait", { skip }, () => {
  handoverCases(open);

  test("an offer takes at most its claim's limit; the rest wait with a ready signal", async () => {
    await using(async ({ worker, producer }) => {
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
    await using(async ({ worker, producer }) => {
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
    await using(async ({ worker, producer }) => {
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
    await using(async ({ worker, producer, clock }) => {
      await producer.enqueue([newTask({ id: "delayed", runAt: START + 10 })]);
      await worker.claim(claimRequest({ owner: "w", limit: 1 }));
      clock.advance(10);

      await handedTo(worker, () => producer.enqueue([newTask({ id: "new", runAt: START + 10 })]));

      assert.equal((await producer.getTask("new"))?.state, "pending");
      assert.equal((await worker.claim(claimRequest({ owner: "w", limit: 1 })))[0]?.id, "delayed");
    });
  });

  test("the same handle's enqueue hands over in its answer", async () => {
    await using(async ({ worker }) => {
      await worker.claim(claimRequest({ owner: "w" }));
      await worker.enqueue([newTask({ id: "a" })]);

      // No signal to wait for: the answer already brought the task.
      assert.equal((await worker.claim(claimRequest({ owner: "w" })))[0]?.id, "a");
    });
  });

  test("maintain withdraws offers past their time, left by handles that never closed", async () => {
    await using(async ({ worker, producer, clock, prefix }) => {
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

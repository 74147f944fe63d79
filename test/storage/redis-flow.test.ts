// Flow controls, blocked tasks and idempotency keys where the contract cannot
// look: handovers to a waiting claim (see src/storage/redis/scripts/offers.ts)
// must not pass a paused queue, a limit or a blocked task; a batch sent again
// after a lost reply answers as the first time; a requeued task's claimed
// record drops the time-to-live and key kept in its stored array.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { QueueControl, Storage } from "../../src/storage/contract.js";
import { createClient, runScript } from "../../src/storage/redis/connection.js";
import { enqueueArgs } from "../../src/storage/redis/enqueue.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import { parseRedisUrl } from "../../src/storage/redis/url.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, newTasks, START } from "../contract/builders.js";
import { recordSignals } from "../contract/harness.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";

const skip = await skipUnless(REDIS);
const open: QueueControl = { paused: false, concurrency: null, rateLimit: null };
/** Long enough for a handover pushed to another handle's inbox to arrive. */
const SETTLE_MS = 150;

/** A worker's handle and a producer's handle on one fresh prefix and clock. */
async function withHandles(
  body: (worker: Storage, producer: Storage, prefix: string) => Promise<void>,
): Promise<void> {
  const prefix = testPrefix("flow");
  const clock = new ManualClock(START);
  const worker = await openRedisStorage(REDIS_URL, { prefix, clock });
  const producer = await openRedisStorage(REDIS_URL, { prefix, clock });
  try {
    await body(worker, producer, prefix);
  } finally {
    await Promise.all([worker.close(), producer.close()]);
    await deleteKeys(REDIS_URL, prefix);
  }
}

/** The worker's claim finds nothing and leaves an offer for queue "default". */
async function offer(worker: Storage, limit = 5): Promise<void> {
  assert.deepEqual(await worker.claim(claimRequest({ owner: "w", limit })), []);
}

describe("redis backend: handovers and flow controls", { skip }, () => {
  for (const [label, tasks] of [
    ["one task", () => [newTask({ id: "a" })]],
    ["a batch", () => newTasks(3, "t")],
  ] as const) {
    test(`${label} enqueued to a paused queue is not handed to a waiting claim`, async () => {
      await withHandles(async (worker, producer) => {
        await offer(worker);
        await producer.setQueueControl("default", { ...open, paused: true });

        await producer.enqueue(tasks());
        await sleep(SETTLE_MS);

        const counts = await producer.countTasks();
        assert.equal(counts.default?.running, undefined, JSON.stringify(counts));
        assert.deepEqual(await worker.claim(claimRequest({ owner: "w" })), []);

        await producer.setQueueControl("default", null);
        assert.equal((await worker.claim(claimRequest({ owner: "w" }))).length, tasks().length);
      });
    });
  }

  test("a handover takes no more than the queue's concurrency allows", async () => {
    await withHandles(async (worker, producer) => {
      await producer.setQueueControl("default", { ...open, concurrency: 1 });
      await offer(worker);

      await producer.enqueue(newTasks(3, "t"));
      await sleep(SETTLE_MS);

      assert.deepEqual(await producer.countTasks(), { default: { running: 1, pending: 2 } });
      const claimed = await worker.claim(claimRequest({ owner: "w" }));
      assert.deepEqual(
        claimed.map((task) => task.id),
        ["t-0"],
      );
    });
  });

  test("a handover counts against the queue's rate limit", async () => {
    await withHandles(async (worker, producer) => {
      const rateLimit = { max: 2, intervalMs: 60_000 };
      await producer.setQueueControl("default", { ...open, rateLimit });
      await offer(worker);

      await producer.enqueue([newTask({ id: "a" })]);
      await sleep(SETTLE_MS);
      assert.equal((await producer.getTask("a"))?.state, "running");
      await producer.enqueue(newTasks(3, "t"));

      const ids = async () => (await worker.claim(claimRequest({ owner: "w" }))).map((t) => t.id);
      assert.deepEqual(await ids(), ["a"]);
      assert.deepEqual(await ids(), ["t-0"]);
      assert.deepEqual(await ids(), []);
      assert.deepEqual(await producer.countTasks(), { default: { running: 2, pending: 2 } });
    });
  });

  test("a blocked task is never handed over, alone or with others", async () => {
    await withHandles(async (worker, producer) => {
      const blocked = { dependencies: { on: ["x"], pass: "none" as const } };
      await offer(worker);

      await producer.enqueue([newTask({ id: "alone", ...blocked })]);
      await producer.enqueue([newTask({ id: "with", ...blocked }), newTask({ id: "plain" })]);
      await sleep(SETTLE_MS);

      assert.equal((await producer.getTask("alone"))?.state, "blocked");
      assert.equal((await producer.getTask("with"))?.state, "blocked");
      const claimed = await worker.claim(claimRequest({ owner: "w" }));
      assert.deepEqual(
        claimed.map((task) => task.id),
        ["plain"],
      );

      assert.deepEqual(await producer.unblock(["alone"]), ["alone"]);
      assert.equal((await producer.getTask("alone"))?.state, "pending");
    });
  });

  test("a requeued task's claim shows no time-to-live or key", async () => {
    await withHandles(async (worker, producer) => {
      const task = newTask({ id: "a", idempotencyKey: "k", expiresAt: START + 60_000 });
      await producer.enqueue([task]);
      await producer.cancel("a", "not now");

      assert.equal(await producer.requeue("a"), "requeued");

      const [claimed] = await worker.claim(claimRequest({ owner: "w" }));
      assert.equal(claimed?.id, "a");
      assert.equal(claimed?.expiresAt, null);
      assert.equal(claimed?.idempotencyKey, null);
      assert.deepEqual(claimed, await producer.getTask("a"));
      assert.deepEqual(await producer.enqueue([newTask({ id: "b", idempotencyKey: "k" })]), ["b"]);
    });
  });
});

describe("redis backend: blocked tasks", { skip }, () => {
  const blocked = { dependencies: { on: ["x"], pass: "none" as const } };

  test("the blocked index holds exactly the blocked tasks through unblock and cancel", async () => {
    await withHandles(async (_worker, producer) => {
      await producer.enqueue([
        newTask({ id: "a", queue: "q", ...blocked }),
        newTask({ id: "b", queue: "q", ...blocked }),
        newTask({ id: "c", queue: "q", name: "other", ...blocked }),
        newTask({ id: "plain", queue: "q" }),
      ]);
      await producer.unblock(["a"]);
      await producer.cancel("b", "no");

      const ids = async (filter: object) =>
        (await producer.listTasks({ state: "blocked", ...filter })).map((task) => task.id);
      assert.deepEqual(await ids({}), ["c"]);
      assert.deepEqual(await ids({ queue: "q" }), ["c"]);
      assert.deepEqual(await ids({ name: "other" }), ["c"]);
      assert.deepEqual(await ids({ name: newTask({ id: "n" }).name }), []);
    });
  });

  test("enqueueing only blocked tasks still sends a ready signal, for resolvers elsewhere", async () => {
    await withHandles(async (worker, producer) => {
      const log = recordSignals(worker);
      try {
        await producer.enqueue([newTask({ id: "a", queue: "q", ...blocked })]);
        await log.waitFor((signal) => signal.type === "ready" && signal.queue === "q");
      } finally {
        log.stop();
      }
    });
  });
});

describe("redis backend: stored layout of keys and dependencies", { skip }, () => {
  test("a plain task's stored array keeps its 14 values", async () => {
    await withHandles(async (_worker, producer, prefix) => {
      await producer.enqueue([
        newTask({ id: "plain" }),
        newTask({ id: "keyed", idempotencyKey: "k" }),
      ]);
      const client = new Redis(REDIS_URL);
      try {
        const plain = JSON.parse((await client.hget(`${prefix}:task:plain`, "d")) ?? "[]");
        const keyed = JSON.parse((await client.hget(`${prefix}:task:keyed`, "d")) ?? "[]");
        assert.equal(plain.length, 14);
        assert.deepEqual(keyed.slice(14), [null, "k"]);
        assert.deepEqual(await client.hgetall(`${prefix}:keys`), { k: "keyed" });
      } finally {
        client.disconnect();
      }
    });
  });

  test("a batch sent again after its reply was lost answers as the first time", async () => {
    const prefix = testPrefix("resend");
    const storage = await openRedisStorage(REDIS_URL, { prefix, clock: new ManualClock(START) });
    const scripts = createClient(
      parseRedisUrl(REDIS_URL, prefix),
      { maxRetriesPerRequest: 1 },
      "commands",
    );
    try {
      await storage.enqueue([newTask({ id: "holder", idempotencyKey: "k" })]);
      const tasks = [newTask({ id: "dropped", idempotencyKey: "k" }), newTask({ id: "kept" })];
      const { args } = enqueueArgs([prefix, "origin-x", START, "batch-1"], tasks);

      const first = (await runScript(scripts, "omniqEnqueue", args)) as unknown[];
      const again = (await runScript(scripts, "omniqEnqueue", args)) as unknown[];

      assert.deepEqual(first[0], [0, "holder"]);
      assert.deepEqual(again[0], first[0]);
      assert.equal((await storage.listTasks()).length, 2);
    } finally {
      scripts.disconnect();
      await storage.close();
      await deleteKeys(REDIS_URL, prefix);
    }
  });
});

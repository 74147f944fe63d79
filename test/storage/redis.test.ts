// Behaviour of the Redis backend beyond the shared contract: where its keys
// live, ordering at the edges of number precision, listings and housekeeping
// larger than one script's batch, and a batch sent twice after a lost reply.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Redis } from "ioredis";
import { DuplicateTaskError, StorageError } from "../../src/errors.js";
import type { Storage } from "../../src/storage/contract.js";
import { createClient, runScript } from "../../src/storage/redis/connection.js";
import { enqueueValues } from "../../src/storage/redis/hash.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import { MAINTAIN_BATCH } from "../../src/storage/redis/maintain.js";
import { parseRedisUrl } from "../../src/storage/redis/url.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, newTask, newTasks, START } from "../contract/builders.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";

const skip = await skipUnless(REDIS);
const DAY = 86_400_000;
const maintainAll = { maxLeaseLosses: 5, eventTtlMs: DAY };

/** Runs `body` on a fresh prefix with a manual clock; deletes the prefix's keys after. */
async function withStore(
  body: (storage: Storage, clock: ManualClock, prefix: string) => Promise<void>,
): Promise<void> {
  const prefix = testPrefix("redis");
  const clock = new ManualClock(START);
  const storage = await openRedisStorage(REDIS_URL, { prefix, clock });
  try {
    await body(storage, clock, prefix);
  } finally {
    await storage.close();
    await deleteKeys(REDIS_URL, prefix);
  }
}

async function keysOf(pattern: string): Promise<string[]> {
  const client = new Redis(REDIS_URL);
  try {
    return await client.keys(pattern);
  } finally {
    client.disconnect();
  }
}

const ids = (tasks: readonly { id: string }[]) => tasks.map((t) => t.id);

describe("redis backend", { skip }, () => {
  test("keeps every key under its prefix, out of sight of another prefix", async () => {
    await withStore(async (storage, clock, prefix) => {
      await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b", runAt: START + 5 })]);
      const [held] = await storage.claim(claimRequest());
      assert.ok(held);
      await storage.settle([completed(held)]);

      const neighbour = await openRedisStorage(REDIS_URL, { prefix: `${prefix}x`, clock });
      try {
        assert.deepEqual(await neighbour.listTasks(), []);
        assert.deepEqual(await neighbour.countTasks(), {});
        assert.deepEqual(await neighbour.claim(claimRequest()), []);
      } finally {
        await neighbour.close();
      }
      const keys = await keysOf(`*${prefix}*`);
      assert.ok(keys.length > 0);
      assert.deepEqual(
        keys.filter((key) => !key.startsWith(`${prefix}:`)),
        [],
      );
    });
  });

  test("orders by priority, run-at and enqueue order where one float could not", async () => {
    await withStore(async (storage, clock) => {
      const far = START + 10 ** 9;
      await storage.enqueue([
        newTask({ id: "late-huge", priority: 2 ** 40, runAt: far }),
        newTask({ id: "early-huge", priority: 2 ** 40, runAt: START }),
        newTask({ id: "early-huge-2", priority: 2 ** 40, runAt: START }),
        newTask({ id: "fraction", priority: 0.5 }),
        newTask({ id: "negative", priority: -(2 ** 40) }),
        newTask({ id: "zero" }),
      ]);
      clock.set(far);

      assert.deepEqual(ids(await storage.claim(claimRequest())), [
        "early-huge",
        "early-huge-2",
        "late-huge",
        "fraction",
        "zero",
        "negative",
      ]);
    });
  });

  test("lists and counts past one script's chunk of tasks", async () => {
    await withStore(async (storage) => {
      const tasks = Array.from({ length: 1_300 }, (_, i) =>
        newTask({ id: `t-${i}`, name: i % 3 === 0 ? "three" : "other", queue: `q${i % 2}` }),
      );
      for (let i = 0; i < tasks.length; i += 650) await storage.enqueue(tasks.slice(i, i + 650));

      const threes = tasks.filter((t) => t.name === "three").map((t) => t.id);
      const page = await storage.listTasks({ name: "three", offset: 200, limit: 150 });
      assert.deepEqual(ids(page), threes.slice(200, 350));

      const q1 = tasks.filter((t) => t.queue === "q1").map((t) => t.id);
      assert.deepEqual(
        ids(await storage.listTasks({ queue: "q1", offset: 600, limit: 100 })),
        q1.slice(600),
      );
      assert.equal((await storage.listTasks({ limit: 2_000 })).length, 1_300);
      assert.deepEqual(await storage.countTasks(), { q0: { pending: 650 }, q1: { pending: 650 } });
    });
  });

  test("lists failed tasks from their own index, in enqueue order", async () => {
    await withStore(async (storage) => {
      await storage.enqueue(newTasks(6, "f"));
      const held = await storage.claim(claimRequest());
      await storage.settle(
        held.map((t, i) =>
          i % 2 === 0
            ? completed(t)
            : {
                id: t.id,
                token: t.token,
                outcome: "failed",
                error: { name: "E", message: "x" },
                retryAt: null,
              },
        ),
      );

      assert.deepEqual(ids(await storage.listTasks({ state: "failed" })), ["f-1", "f-3", "f-5"]);
      assert.deepEqual(ids(await storage.listTasks({ state: "completed", limit: 2 })), [
        "f-0",
        "f-2",
      ]);
    });
  });

  test("housekeeping works through more than one batch per step", async () => {
    await withStore(async (storage, clock) => {
      // One claim and one settlement per task: as many lease groups, deletion
      // groups and event log members as tasks, more than one batch reads.
      const count = MAINTAIN_BATCH + 7;
      await storage.enqueue(newTasks(count, "m", { resultTtlMs: 1_000 }));
      for (let i = 0; i < count; i += 1)
        await storage.claim(claimRequest({ limit: 1, leaseMs: 10 }));
      clock.advance(10);

      assert.equal((await storage.maintain(maintainAll)).leasesExpired, count);
      assert.deepEqual(await storage.countTasks(), { default: { pending: count } });

      for (let i = 0; i < count; i += 1) {
        const [held] = await storage.claim(claimRequest({ limit: 1 }));
        assert.ok(held);
        await storage.settle([completed(held)]);
      }
      clock.advance(1_000);
      const report = await storage.maintain({ ...maintainAll, eventTtlMs: 1_000 });

      assert.equal(report.resultsDeleted, count);
      assert.equal(report.eventsDeleted, count * 5);
      assert.deepEqual(await storage.countTasks(), {});
      assert.deepEqual(await storage.eventsSince(0, 10), []);
    });
  });

  test("a heartbeat for part of a claim keeps the rest of it expiring on time", async () => {
    await withStore(async (storage, clock) => {
      await storage.enqueue(newTasks(3, "h"));
      const held = await storage.claim(claimRequest({ leaseMs: 100 }));
      assert.equal(held.length, 3);
      clock.advance(60);
      const renewed = held[0];
      assert.ok(renewed);
      await storage.heartbeat([{ id: renewed.id, token: renewed.token }], 100);
      await storage.settle([completed(held[1] ?? renewed)]);

      clock.advance(40);
      assert.equal((await storage.maintain(maintainAll)).leasesExpired, 1);
      assert.equal((await storage.getTask("h-2"))?.state, "pending");
      assert.equal((await storage.getTask("h-0"))?.state, "running");

      clock.advance(60);
      assert.equal((await storage.maintain(maintainAll)).leasesExpired, 1);
      assert.equal((await storage.getTask("h-0"))?.state, "pending");
      assert.equal((await storage.getTask("h-1"))?.state, "completed");
    });
  });

  test("a deleted task's events stay readable until their own time-to-live", async () => {
    await withStore(async (storage, clock, prefix) => {
      await storage.enqueue([newTask({ id: "gone", resultTtlMs: 100 })]);
      const [held] = await storage.claim(claimRequest());
      assert.ok(held);
      await storage.settle([completed(held)]);
      clock.advance(100);

      assert.equal((await storage.maintain(maintainAll)).resultsDeleted, 1);
      assert.equal(await storage.getTask("gone"), null);
      assert.deepEqual(
        (await storage.taskEvents("gone")).map((e) => e.type),
        ["enqueued", "executing", "completed"],
      );

      clock.advance(DAY);
      assert.equal((await storage.maintain(maintainAll)).eventsDeleted, 3);
      assert.deepEqual(await storage.taskEvents("gone"), []);
      assert.deepEqual(await keysOf(`${prefix}:events:*`), []);
    });
  });

  test("a batch sent again after its reply was lost is stored once, without a duplicate error", async () => {
    await withStore(async (storage, clock, prefix) => {
      const target = parseRedisUrl(REDIS_URL, prefix);
      const client = createClient(target, { maxRetriesPerRequest: 1 }, "commands");
      try {
        const args = [prefix, "origin", clock.now(), "batch-1", 2];
        args.push(...enqueueValues(newTask({ id: "x" })), ...enqueueValues(newTask({ id: "y" })));
        await runScript(client, "omniqEnqueue", args);
        await runScript(client, "omniqEnqueue", args);
      } finally {
        client.disconnect();
      }

      assert.deepEqual(ids(await storage.listTasks()), ["x", "y"]);
      assert.equal((await storage.eventsSince(0, 10)).length, 2);
      await assert.rejects(storage.enqueue([newTask({ id: "x" })]), DuplicateTaskError);
    });
  });

  test("a large batch with one duplicate at its end stores nothing", async () => {
    await withStore(async (storage) => {
      await storage.enqueue([newTask({ id: "taken" })]);
      const batch = [...newTasks(2_000, "big"), newTask({ id: "taken" })];

      await assert.rejects(storage.enqueue(batch), DuplicateTaskError);

      assert.deepEqual(await storage.countTasks(), { default: { pending: 1 } });
      assert.equal((await storage.eventsSince(0, 10)).length, 1);
    });
  });

  test("after close, operations reject with StorageError", async () => {
    await withStore(async (storage) => {
      await storage.close();
      await assert.rejects(storage.getTask("a"), StorageError);
      await assert.rejects(storage.enqueue([newTask()]), StorageError);
    });
  });
});

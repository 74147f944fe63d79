// What the Redis backend's signals carry beyond the contract: the outcomes of
// finished tasks, so that waiters need not read them back, and how getOutcome
// calls made together share script calls.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import type { Storage, StorageSignal, TaskOutcome } from "../../src/storage/contract.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import { OUTCOME_IN_SIGNAL_MAX } from "../../src/storage/redis/signals.js";
import { ManualClock } from "../../src/util/clock.js";
import {
  claimRequest,
  completed,
  errorInfo,
  failed,
  newTask,
  START,
} from "../contract/builders.js";
import { recordSignals } from "../contract/harness.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { type PrivateRedis, privateRedis } from "../helpers/redis-server.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";

const skip = await skipUnless(REDIS);

type Finished = Extract<StorageSignal, { type: "finished" }>;

const finishedWith = (id: string) => (s: StorageSignal) =>
  s.type === "finished" && s.ids.includes(id);

/** Two handles on one fresh prefix: `storage` writes, `other` listens from afar. */
async function withHandles(
  body: (storage: Storage, other: Storage, prefix: string) => Promise<void>,
): Promise<void> {
  const prefix = testPrefix("signals");
  const clock = new ManualClock(START);
  const storage = await openRedisStorage(REDIS_URL, { prefix, clock });
  const other = await openRedisStorage(REDIS_URL, { prefix, clock });
  try {
    await body(storage, other, prefix);
  } finally {
    await Promise.all([storage.close(), other.close()]);
    await deleteKeys(REDIS_URL, prefix);
  }
}

/** Claims every due task of `default`, by id. */
async function claimAll(storage: Storage) {
  const held = await storage.claim(claimRequest({ limit: 100 }));
  return new Map(held.map((task) => [task.id, task]));
}

describe("redis backend: finished signals carry outcomes", { skip }, () => {
  test("another handle hears the outcomes of small results, errors and cancellations", async () => {
    await withHandles(async (storage, other) => {
      const log = recordSignals(other);
      await storage.enqueue(["ok", "bad", "stop"].map((id) => newTask({ id })));
      const held = await claimAll(storage);
      const lease = (id: string) => held.get(id) ?? assert.fail(`${id} not claimed`);

      await storage.settle([
        completed(lease("ok"), '"fine"'),
        failed(lease("bad"), null, errorInfo("broke", "TypeError")),
        { ...lease("stop"), outcome: "cancelled", error: errorInfo("enough") },
      ]);

      const signal = (await log.waitFor(finishedWith("ok"))) as Finished;
      assert.deepEqual([...signal.ids].sort(), ["bad", "ok", "stop"]);
      assert.deepEqual(signal.outcomes?.get("ok"), { state: "completed", result: '"fine"' });
      assert.deepEqual(signal.outcomes?.get("bad"), {
        state: "failed",
        error: { name: "TypeError", message: "broke" },
      });
      assert.deepEqual(signal.outcomes?.get("stop"), {
        state: "cancelled",
        error: { name: "Error", message: "enough" },
      });
      log.stop();
    });
  });

  test("a result too large for a signal is named without its outcome, and read as before", async () => {
    await withHandles(async (storage, other) => {
      const log = recordSignals(other);
      await storage.enqueue([newTask({ id: "big" }), newTask({ id: "small" })]);
      const held = await claimAll(storage);
      const big = JSON.stringify("x".repeat(OUTCOME_IN_SIGNAL_MAX));

      await storage.settle([
        completed(held.get("big") ?? assert.fail(), big),
        completed(held.get("small") ?? assert.fail(), "1"),
      ]);

      const signal = (await log.waitFor(finishedWith("big"))) as Finished;
      assert.ok(signal.ids.includes("big"));
      assert.equal(signal.outcomes?.has("big"), false);
      assert.deepEqual(signal.outcomes?.get("small"), { state: "completed", result: "1" });
      assert.deepEqual(await other.getOutcome("big"), { state: "completed", result: big });
      log.stop();
    });
  });

  test("the writing handle's own signal carries outcomes; a retry or a refused settlement none", async () => {
    await withHandles(async (storage) => {
      const log = recordSignals(storage);
      await storage.enqueue(["done", "again", "stale"].map((id) => newTask({ id })));
      const held = await claimAll(storage);
      const stale = held.get("stale") ?? assert.fail();

      await storage.settle([
        completed(held.get("done") ?? assert.fail(), "7"),
        failed(held.get("again") ?? assert.fail(), START + 60_000),
        completed({ id: "stale", token: stale.token + 1 }),
      ]);

      const signal = (await log.waitFor(finishedWith("done"))) as Finished;
      assert.deepEqual(signal.ids, ["done"]);
      assert.deepEqual(
        [...(signal.outcomes ?? new Map<string, TaskOutcome>())],
        [["done", { state: "completed", result: "7" }]],
      );
      log.stop();
    });
  });

  test("an outcome not shaped like one is left out of a message; its id still arrives", async () => {
    await withHandles(async (_storage, other, prefix) => {
      const log = recordSignals(other);
      const client = new Redis(REDIS_URL);
      try {
        const message = {
          o: "someone-else",
          type: "finished",
          ids: ["a", "b", "c", "d"],
          outcomes: {
            a: { state: "running" },
            b: { state: "completed" },
            c: { state: "failed", error: { message: 3 } },
            d: { state: "failed", error: { name: "Error", message: "real" } },
            e: { state: "completed", result: "not named in ids" },
          },
        };
        await client.publish(`${prefix}:signals`, JSON.stringify(message));

        const signal = (await log.waitFor(finishedWith("a"))) as Finished;
        assert.deepEqual(signal.ids, ["a", "b", "c", "d"]);
        assert.deepEqual(
          [...(signal.outcomes ?? new Map<string, TaskOutcome>())],
          [["d", { state: "failed", error: { name: "Error", message: "real" } }]],
        );
      } finally {
        client.disconnect();
        log.stop();
      }
    });
  });
});

describe("redis backend: outcome lookups", { skip }, () => {
  let server: PrivateRedis;

  before(async () => {
    server = await privateRedis(["--appendonly", "no"]);
    await server.start();
  });
  after(async () => {
    await server?.remove();
  });

  /** Script calls the private server ran so far. */
  async function scriptCalls(): Promise<number> {
    const client = new Redis(server.url);
    try {
      const stats = await client.info("commandstats");
      const calls = (name: string) =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      return calls("evalsha") + calls("eval");
    } finally {
      client.disconnect();
    }
  }

  test("getOutcome calls made together share one script call per thousand ids", async () => {
    const storage = await openRedisStorage(server.url, { clock: new ManualClock(START) });
    try {
      await storage.enqueue([newTask({ id: "w" }), newTask({ id: "f" })]);
      const held = await claimAll(storage);
      await storage.settle([failed(held.get("f") ?? assert.fail(), null)]);
      await storage.enqueue([newTask({ id: "p" })]);
      const asked = ["w", "f", "p", "w", ...Array.from({ length: 1_500 }, (_, i) => `none-${i}`)];

      const before = await scriptCalls();
      const outcomes = await Promise.all(asked.map((id) => storage.getOutcome(id)));
      const calls = (await scriptCalls()) - before;

      assert.deepEqual(outcomes.slice(0, 4), [
        { state: "running" },
        { state: "failed", error: errorInfo() },
        { state: "pending" },
        { state: "running" },
      ]);
      assert.ok(outcomes.slice(4).every((outcome) => outcome === null));
      assert.notEqual(outcomes[0], outcomes[3], "each caller gets an object of its own");
      assert.equal(calls, 2);
    } finally {
      await storage.close();
    }
  });
});

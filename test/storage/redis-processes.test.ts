// Several processes on one Redis store: each task runs exactly once across
// them, a killed worker loses nothing, and signals cross between processes.
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, describe, test } from "node:test";
import type { Storage } from "../../src/storage/contract.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import type { NewTask } from "../../src/task/record.js";
import { ManualClock } from "../../src/util/clock.js";
import { deleteKeys, testPrefix } from "../helpers/redis-keys.js";
import { REDIS, REDIS_URL, skipUnless } from "../helpers/services.js";
import { type ClaimStep, claimedIds, killRacers, race } from "./fixtures/flow-race.js";
import { type Drained, killJobs, messageFrom, startJob } from "./fixtures/store-jobs.js";

const skip = await skipUnless(REDIS);

after(() => {
  killJobs();
  killRacers();
});

function task(id: string, queue: string, now = Date.now()): NewTask {
  return {
    id,
    name: "redis.child",
    queue,
    priority: 0,
    payload: "[]",
    runAt: now,
    createdAt: now,
    maxAttempts: 3,
    timeoutMs: null,
    expiresAt: null,
    resultTtlMs: 600_000,
    backoff: null,
    worker: "async",
    module: null,
  };
}

/**
 * Runs `body` with a storage handle on a fresh prefix and the URL other
 * processes open it by; deletes the prefix's keys after.
 */
async function withStore(body: (storage: Storage, prefix: string, url: string) => Promise<void>) {
  const prefix = testPrefix("proc");
  const storage = await openRedisStorage(REDIS_URL, { prefix });
  try {
    await body(storage, prefix, `${REDIS_URL}?prefix=${prefix}`);
  } finally {
    await storage.close();
    await deleteKeys(REDIS_URL, prefix);
  }
}

describe("redis: several processes", { skip }, () => {
  test("three processes run each of 3,000 tasks exactly once", async () => {
    await withStore(async (storage, _prefix, url) => {
      const total = 3_000;
      for (let start = 0; start < total; start += 500) {
        const batch = Array.from({ length: 500 }, (_, i) => task(`s-${start + i}`, "shared"));
        await storage.enqueue(batch);
      }
      // Everything is enqueued before they start: the first empty claim ends each.
      const drainers = [1, 2, 3].map(() =>
        startJob(url, {
          job: "drain",
          queue: "shared",
          limit: 25,
          waitForGo: true,
          until: { emptyClaims: 1 },
        }),
      );
      await Promise.all(drainers.map((child) => messageFrom(child, (m) => m === "ready")));

      const results = drainers.map((child) =>
        messageFrom<Drained>(child, (m) => typeof m === "object"),
      );
      for (const child of drainers) child.send("go");
      const perProcess = (await Promise.all(results)).map((r) => r.claimed);

      const all = perProcess.flat();
      assert.equal(all.length, total, "executions in all");
      assert.equal(new Set(all).size, total, "no task ran twice");
      assert.ok(
        perProcess.filter((ids) => ids.length > 0).length >= 2,
        `work was shared: ${perProcess.map((ids) => ids.length)}`,
      );
      assert.deepEqual(await storage.countTasks(), { shared: { completed: total } });
    });
  });

  test("a task held by a process killed with SIGKILL is run by another after its lease", async () => {
    await withStore(async (_storage, prefix, url) => {
      // The second handle's clock runs ahead, so the lease has run out for it
      // without the test sleeping through it.
      const later = new ManualClock(Date.now() + 120_000);
      const rescuer = await openRedisStorage(REDIS_URL, { prefix, clock: later });
      try {
        await rescuer.enqueue([task("victim", "held", later.now() - 200_000)]);
        const holder = startJob(url, { job: "hold", queue: "held", leaseMs: 60_000 });
        const held = await messageFrom<{ id?: string }>(holder);
        assert.equal(held.id, "victim");

        const exited = once(holder, "exit");
        holder.kill("SIGKILL");
        await exited;
        assert.equal((await rescuer.getTask("victim"))?.state, "running");

        const report = await rescuer.maintain({ maxLeaseLosses: 3, eventTtlMs: 86_400_000 });
        assert.equal(report.leasesExpired, 1);
        const [again] = await rescuer.claim({
          queues: ["held"],
          workers: ["async"],
          limit: 1,
          owner: "rescuer",
          leaseMs: 30_000,
        });
        assert.equal(again?.id, "victim");
        assert.equal(again?.attempts, 2);
        assert.deepEqual(
          await rescuer.settle([
            { id: "victim", token: again.token, outcome: "completed", result: "2" },
          ]),
          [true],
        );
        assert.deepEqual(await rescuer.getOutcome("victim"), { state: "completed", result: "2" });
      } finally {
        await rescuer.close();
      }
    });
  });

  test("a process waiting on signals wakes for a task enqueued by another", async () => {
    await withStore(async (storage, _prefix, url) => {
      const listener = startJob(url, { job: "listen", queue: "cross" });
      await messageFrom(listener, (m) => m === "ready");

      const finished = new Promise<void>((resolve) => {
        storage.subscribe?.((signal) => {
          if (signal.type === "finished" && signal.ids.includes("cross-1")) resolve();
        });
      });
      await storage.enqueue([task("cross-1", "cross")]);
      await finished;

      assert.deepEqual(await storage.getOutcome("cross-1"), {
        state: "completed",
        result: '"child"',
      });
      listener.send("exit");
      await once(listener, "exit");
    });
  });

  test("a concurrency limit holds over processes claiming at once", async () => {
    await withStore(async (storage, _prefix, url) => {
      await storage.enqueue(Array.from({ length: 20 }, (_, i) => task(`l-${i}`, "limited")));
      await storage.setQueueControl("limited", {
        paused: false,
        concurrency: 3,
        rateLimit: null,
      });

      // Four processes, let go together, each claim up to 5 once and hold what they got.
      const claimer: ClaimStep = {
        step: "claim",
        queue: "limited",
        limit: 5,
        leaseMs: 60_000,
        until: { claims: 1 },
      };
      const answers = await race(url, [claimer, claimer, claimer, claimer]);

      const claimed = claimedIds(answers);
      assert.equal(claimed.length, 3, `claimed: ${claimed}`);
      assert.equal((await storage.countTasks()).limited?.running, 3);
    });
  });

  test("processes enqueueing under one idempotency key at once store one task", async () => {
    await withStore(async (storage, _prefix, url) => {
      // Four processes, let go together, each enqueue a task of its own under the key "k".
      const answers = await race(
        url,
        [0, 1, 2, 3].map((i) => ({
          step: "enqueue" as const,
          queue: "keyed",
          tasks: [{ id: `keyed-${i}`, key: "k" }],
          atOnce: 1,
        })),
      );

      const ids = new Set(answers.flat());
      assert.equal(ids.size, 1, `answers: ${[...ids]}`);
      const stored = await storage.listTasks({ queue: "keyed" });
      assert.deepEqual(
        stored.map((record) => record.id),
        [...ids],
      );
    });
  });
});

// The Redis backend when its server goes away: operations fail with
// StorageError instead of hanging, nothing reaches the process as an
// unhandled error, and after the server returns the same handles work on,
// having lost no task. Each test runs its own redis-server on a free port.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { StorageError } from "../../src/errors.js";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { openRedisStorage } from "../../src/storage/redis/index.js";
import type { NewTask } from "../../src/task/record.js";
import { freePort, type PrivateRedis, privateRedis } from "../helpers/redis-server.js";
import { REDIS, skipUnless } from "../helpers/services.js";

// The shared server answering means redis-server is installed here.
const skip = await skipUnless(REDIS);
const DAY = 86_400_000;

function task(id: string): NewTask {
  const now = Date.now();
  return {
    id,
    name: "redis.outage",
    queue: "default",
    priority: 0,
    payload: "[]",
    runAt: now,
    createdAt: now,
    maxAttempts: 1,
    timeoutMs: null,
    expiresAt: null,
    resultTtlMs: DAY,
    backoff: null,
    worker: "async",
    module: null,
  };
}

/** Claims and completes until `done()`; a StorageError is counted and waited out. */
async function workLoop(
  storage: Storage,
  done: () => boolean,
  stats: { executions: number; errors: number },
) {
  while (!done()) {
    try {
      const claimed = await storage.claim({
        queues: ["default"],
        workers: ["async"],
        limit: 20,
        owner: "loop",
        leaseMs: 500,
      });
      if (claimed.length === 0) {
        await sleep(20);
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
      await sleep(50);
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

/** Runs `body` with a private server started; stops it and deletes its data after, whatever happens. */
async function withServer(body: (server: PrivateRedis) => Promise<void>, args: string[] = []) {
  const server = await privateRedis(args);
  try {
    await server.start();
    await body(server);
  } finally {
    await server.remove();
  }
}

describe("redis: server outages", { skip }, () => {
  test("claim and settle loops ride out a server crash: every task completes", async (t) => {
    await withServer(async (server) => {
      const connectionErrors: StorageError[] = [];
      const storage = await openRedisStorage(server.url, {
        prefix: "outage",
        onConnectionError: (error) => connectionErrors.push(error),
      });
      const total = 1_500;
      // Set in finally too, so that a failing assertion never leaves the loops running.
      let finished = false;
      try {
        for (let i = 0; i < total; i += 500) {
          await storage.enqueue(Array.from({ length: 500 }, (_, j) => task(`t-${i + j}`)));
        }

        const stats = { executions: 0, errors: 0 };
        const loops = [1, 2, 3].map(() => workLoop(storage, () => finished, stats));
        const housekeeping = (async () => {
          while (!finished) {
            await storage.maintain({ maxLeaseLosses: 1_000, eventTtlMs: DAY }).catch(() => {});
            await sleep(200);
          }
        })();

        const deadline = Date.now() + 60_000;
        while (stats.executions < 400 && Date.now() < deadline) await sleep(5);
        await server.stop("SIGKILL");
        await sleep(300);
        await server.start();
        const executionsAtRestart = stats.executions;

        while ((await completedCount(storage)) < total && Date.now() < deadline) await sleep(100);
        finished = true;
        await Promise.all([...loops, housekeeping]);

        t.diagnostic(
          `executions ${stats.executions} (${executionsAtRestart} before the crash), ` +
            `failed calls ${stats.errors}, connection errors ${connectionErrors.length}`,
        );
        assert.deepEqual(await storage.countTasks(), { default: { completed: total } });
        assert.ok(stats.executions > executionsAtRestart, "work went on after the restart");
        assert.ok(stats.executions >= total);
        assert.ok(connectionErrors.length > 0, "the outage was reported to onConnectionError");
      } finally {
        finished = true;
        await storage.close();
      }
    });
  });

  test("during an outage operations reject with StorageError; afterwards the handle works again", async () => {
    await withServer(async (server) => {
      const options = { prefix: "down", maxRetriesPerRequest: 1, onConnectionError: () => {} };
      const storage = await openRedisStorage(server.url, options);
      const other = await openRedisStorage(server.url, options);
      try {
        await storage.enqueue([task("kept")]);
        await server.stop("SIGKILL");

        const started = Date.now();
        await assert.rejects(storage.getTask("kept"), StorageError);
        await assert.rejects(storage.enqueue([task("lost")]), StorageError);
        assert.ok(Date.now() - started < 10_000, "failed in bounded time");

        await server.start();
        assert.equal((await storage.getTask("kept"))?.state, "pending");
        assert.equal(await storage.getTask("lost"), null);

        // The signal connection resubscribes on its own; enqueue until heard.
        const heard: StorageSignal[] = [];
        storage.subscribe?.((signal) => heard.push(signal));
        for (
          let i = 0;
          i < 100 && !heard.some((s) => s.type === "ready" && s.queue === "again");
          i += 1
        ) {
          await other.enqueue([{ ...task(`again-${i}`), queue: "again" }]);
          await sleep(50);
        }
        assert.ok(
          heard.some((s) => s.type === "ready" && s.queue === "again"),
          "signals flow again",
        );
      } finally {
        await storage.close();
        await other.close();
      }
    });
  });

  test("opening a server that is not there rejects with StorageError, without the password", async () => {
    const port = await freePort();
    const url = `redis://omniq:hunter2@127.0.0.1:${port}/0`;

    const error = await openRedisStorage(url, { maxRetriesPerRequest: 0 }).then(
      () => assert.fail("opened a server that is not there"),
      (e: unknown) => e,
    );

    assert.ok(error instanceof StorageError);
    assert.ok(!error.message.includes("hunter2"), error.message);
    assert.match(error.message, /omniq:\*\*\*@127\.0\.0\.1/);
  });

  test("a wrong password fails the open with the server's reason, never the password", async () => {
    await withServer(
      async (server) => {
        const url = `redis://:wrong-one@127.0.0.1:${server.port}`;
        const error = await openRedisStorage(url, { onConnectionError: () => {} }).then(
          () => assert.fail("opened with a wrong password"),
          (e: unknown) => e,
        );

        assert.ok(error instanceof StorageError);
        assert.match(error.message, /WRONGPASS/);
        assert.ok(!error.message.includes("wrong-one"), error.message);

        const storage = await openRedisStorage(`redis://:right-one@127.0.0.1:${server.port}/1`);
        assert.deepEqual(await storage.countTasks(), {});
        await storage.close();
      },
      ["--requirepass", "right-one"],
    );
  });

  test("a server that stops answering: commands fail after the command timeout, then recover", async () => {
    await withServer(async (server) => {
      const storage = await openRedisStorage(server.url, { commandTimeoutMs: 300 });
      try {
        await storage.enqueue([task("a")]);
        server.pause();

        const started = Date.now();
        await assert.rejects(storage.getTask("a"), (error: unknown) => {
          return error instanceof StorageError && /timed out/i.test(error.message);
        });
        assert.ok(Date.now() - started < 5_000);

        server.resume();
        assert.equal((await storage.getTask("a"))?.state, "pending");
      } finally {
        await storage.close();
      }
    });
  });
});

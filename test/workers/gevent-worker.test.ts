import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { AsyncWorker, GeventWorker, OmniQ, openStorage, type Storage } from "../../src/index.js";
import {
  add,
  blockLater,
  overlap,
  resetOverlap,
  spin,
  whereAmI,
  whereAmIAsync,
} from "../fixtures/workers/tasks.js";
import { freshUrl } from "../helpers/omniq.js";
import { captureLogger, until } from "./helpers.js";

/** A storage that records how many tasks each claim returned. */
function countingClaims(storage: Storage): { storage: Storage; claimed: number[] } {
  const claimed: number[] = [];
  const counting = Object.create(storage) as Storage;
  counting.claim = async (request) => {
    const tasks = await storage.claim(request);
    if (tasks.length > 0) claimed.push(tasks.length);
    return tasks;
  };
  return { storage: counting, claimed };
}

async function producerFor(url: string, type: "gevent" | "async" = "gevent"): Promise<OmniQ> {
  return OmniQ.open({ storage: url, worker: false, pollInterval: 20, defaultWorker: type });
}

describe("gevent worker", () => {
  test("runs up to 1,000 tasks at once by default, claimed in large batches", async () => {
    const url = `memory://gevent-${randomUUID()}`;
    const producer = await producerFor(url);
    const backend = await openStorage(url);
    const { storage, claimed } = countingClaims(backend);
    const worker = new GeventWorker({ storage, pollInterval: 20 });
    try {
      resetOverlap();
      const ids = await producer.enqueueMany(
        Array.from({ length: 1_500 }, () => overlap.call(300)),
      );
      await worker.start();
      const most = (await Promise.all(
        ids.map((id) => producer.getResult(id, { timeout: "20s" })),
      )) as number[];

      assert.equal(
        Math.max(...most),
        1_000,
        "never more than the default concurrency, and that many",
      );
      assert.ok(Math.max(...claimed) > 100, `claims of ${claimed.join(", ")} tasks`);
    } finally {
      await worker.stop();
      await backend.close();
      await producer.close();
    }
  });

  test("the watchdog names a task that blocks the event loop, in its first stretch or later", async () => {
    const url = `memory://gevent-${randomUUID()}`;
    const producer = await producerFor(url);
    const { logger, lines } = captureLogger();
    const worker = new GeventWorker({ storage: url, pollInterval: 20, logger, logLevel: "warn" });
    await worker.start();
    try {
      const early = await producer.enqueue(spin, 150);
      const late = await producer.enqueue(blockLater, 150);
      const quick = await producer.enqueue(add, 1, 2);
      for (const id of [early, late, quick]) await producer.getResult(id, { timeout: "5s" });

      const warned = lines.filter(
        (line) => line.level === "warn" && line.fields.blockedMs !== undefined,
      );
      const byTask = new Map(warned.map((line) => [line.fields.task, line]));
      for (const [id, name] of [
        [early, "workers.spin"],
        [late, "workers.blockLater"],
      ]) {
        const line = byTask.get(id);
        assert.ok(line, `no warning for ${name}`);
        assert.equal(line.fields.name, name);
        assert.ok((line.fields.blockedMs as number) >= 140);
        assert.match(line.message, new RegExp(`task "${name}" \\(${id}\\) blocked the event loop`));
      }
      assert.equal(byTask.has(quick), false, "a quick task is not reported");
    } finally {
      await worker.stop();
      await producer.close();
    }
  });

  test("stop() drains within its deadline and hands back what still runs", async () => {
    const store = freshUrl("sqlite");
    const producer = await producerFor(store.url);
    const worker = new GeventWorker({ storage: store.url, pollInterval: 20, stopTimeout: 500 });
    await worker.start();
    try {
      const quick = await producer.enqueueMany(Array.from({ length: 200 }, () => overlap.call(50)));
      const slow = await producer.enqueueMany(
        Array.from({ length: 5 }, () => overlap.call(30_000)),
      );
      await until(async () => (await producer.countTasks()).default?.running === 205, "all to run");
      await worker.stop();

      for (const id of quick) assert.equal((await producer.getTask(id)).state, "completed");
      for (const id of slow) {
        const task = await producer.getTask(id);
        assert.deepEqual([task.state, task.attempts], ["pending", 0], "handed back");
      }
    } finally {
      await producer.close();
      store.remove();
    }
  });

  test("blockWarning raises the threshold", async () => {
    const url = `memory://gevent-${randomUUID()}`;
    const producer = await producerFor(url);
    const { logger, lines } = captureLogger();
    const worker = new GeventWorker({ storage: url, pollInterval: 20, logger, blockWarning: "1s" });
    await worker.start();
    try {
      await producer.getResult(await producer.enqueue(spin, 150), { timeout: "5s" });
      assert.equal(lines.filter((line) => line.fields.blockedMs !== undefined).length, 0);
    } finally {
      await worker.stop();
      await producer.close();
    }
  });
});

describe("syncInThreads", () => {
  for (const Type of [GeventWorker, AsyncWorker]) {
    test(`${Type.name} runs sync tasks in threads and async ones on its loop`, async () => {
      const url = `memory://sync-${randomUUID()}`;
      const producer = await producerFor(url, Type === GeventWorker ? "gevent" : "async");
      const { logger, lines } = captureLogger();
      const worker = new Type({
        storage: url,
        pollInterval: 20,
        syncInThreads: true,
        concurrency: 4,
        logger,
      });
      await worker.start();
      try {
        const sync = await producer.getResult(await producer.enqueue(whereAmI), { timeout: "15s" });
        assert.notEqual(sync.threadId, 0);
        const async = await producer.getResult(await producer.enqueue(whereAmIAsync), {
          timeout: "5s",
        });
        assert.equal(async.threadId, 0);

        await producer.getResult(await producer.enqueue(spin, 150), { timeout: "5s" });
        assert.equal(
          lines.filter((line) => line.fields.blockedMs !== undefined).length,
          0,
          "nothing blocked",
        );
      } finally {
        await worker.stop();
        await producer.close();
      }
    });
  }
});

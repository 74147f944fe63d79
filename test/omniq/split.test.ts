// OmniQ with results and events on other backends than the queue, end to
// end on real servers: results, errors, events, subscriptions and wake-ups
// read from where the data now lives.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, OmniQ, type TaskEvent, TaskFailedError } from "../../src/index.js";
import { openStorage } from "../../src/storage/open.js";
import { openResultStore } from "../../src/storage/open-stores.js";
import { tokenOfMarker } from "../../src/storage/split/results.js";
import { explode, multiply, sleep } from "../fixtures/tasks.js";
import { type Backend, freshPlace, type Place, skipUnlessServed } from "../helpers/places.js";

/** Queue, results, events. */
const COMBINATIONS: [Backend, Backend, Backend][] = [
  ["redis", "postgres", "sqlite"],
  ["sqlite", "redis", "nats"],
  ["postgres", "file", "redis"],
];

async function skipFor(backends: readonly Backend[]): Promise<string | false> {
  for (const backend of backends) {
    const message = await skipUnlessServed(backend);
    if (message) return message;
  }
  return false;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const combination of COMBINATIONS) {
  const [queue, results, events] = combination;

  describe(`OmniQ with queue on ${queue}, results on ${results}, events on ${events}`, async () => {
    const skip = await skipFor(combination);
    let places: Place[] = [];
    const config = () => ({
      storage: places[0]?.url,
      results: places[1]?.url,
      events: places[2]?.url,
      pollInterval: 20,
      lease: "2s",
      stopTimeout: "2s",
    });
    const withPlaces = (body: () => Promise<void>) => async () => {
      places = combination.map((backend) => freshPlace(backend, "e2e"));
      try {
        await body();
      } finally {
        for (const place of places) await place.cleanup();
      }
    };

    test(
      "a result lives in the result store, and getResult and getTask find it",
      { skip },
      withPlaces(async () => {
        const omniq = await OmniQ.open(config());
        try {
          const id = await omniq.enqueue(multiply, 6, 7);
          assert.equal(await omniq.getResult(id, { timeout: "10s" }), 42);
          const task = await omniq.getTask(id);
          assert.equal(task.state, "completed");

          // The queue itself keeps only a marker naming the token; the result store has the value.
          const queueOnly = await openStorage(config().storage as string);
          const store = await openResultStore(config().results as string);
          try {
            const marked = (await queueOnly.getOutcome(id))?.result ?? "";
            assert.equal(tokenOfMarker(marked), task.token);
            assert.equal(
              await store.get(id, task.token),
              (await omniq.storage.getOutcome(id))?.result,
            );
          } finally {
            await queueOnly.close();
            await store.close();
          }
        } finally {
          await omniq.close();
        }
      }),
    );

    test(
      "a task that fails for good reports its error; its events are all in the event store",
      { skip },
      withPlaces(async () => {
        const omniq = await OmniQ.open(config());
        try {
          const id = await omniq.enqueue(explode, "it broke");
          const failure = await omniq.getResult(id, { timeout: "10s" }).catch((e: unknown) => e);
          assert.ok(failure instanceof TaskFailedError);
          assert.equal(failure.remote.message, "it broke");

          const done = await omniq.enqueue(multiply, 2, 3);
          await omniq.getResult(done, { timeout: "10s" });
          assert.deepEqual(
            (await omniq.taskEvents(done)).map((e) => [e.type, e.attempt]),
            [
              ["enqueued", 0],
              ["executing", 1],
              ["completed", 1],
            ],
          );
          assert.deepEqual(
            (await omniq.taskEvents(id)).map((e) => e.type),
            ["enqueued", "executing", "error"],
          );
        } finally {
          await omniq.close();
        }
      }),
    );

    test(
      "a subscriber elsewhere sees every event of tasks another OmniQ runs",
      { skip },
      withPlaces(async () => {
        const watcher = await OmniQ.open({ ...config(), worker: false });
        const runner = await OmniQ.open(config());
        try {
          const seen: TaskEvent[] = [];
          const stop = await watcher.subscribe((event) => seen.push(event));
          const ids = await runner.enqueueMany([multiply.call(1, 2), multiply.call(3, 4)]);
          for (const id of ids) await runner.getResult(id, { timeout: "10s" });

          await until(() => seen.filter((e) => e.type === "completed").length === 2, "both ends");
          stop();
          for (const id of ids) {
            assert.deepEqual(
              seen.filter((e) => e.taskId === id).map((e) => e.type),
              ["enqueued", "executing", "completed"],
            );
          }
          const seqs = seen.map((e) => e.seq);
          assert.deepEqual(
            seqs,
            [...new Set(seqs)].sort((a, b) => a - b),
            "once each, in order",
          );
        } finally {
          await runner.close();
          await watcher.close();
        }
      }),
    );

    test(
      "getResult is woken by the queue's signal, not by a slow poll",
      { skip },
      withPlaces(async () => {
        // Polls every 10 s: a result within 3 s can only come from a wake-up.
        const slow = { ...config(), pollInterval: "10s" };
        const producer = await OmniQ.open({ ...slow, worker: false });
        const worker = await OmniQ.open(slow);
        try {
          // The first round trip opens connections and warms caches.
          await producer.getResult(await producer.enqueue(multiply, 1, 1), { timeout: "10s" });

          // It runs long enough that getResult's first look finds it unfinished.
          const started = Date.now();
          const id = await producer.enqueue(sleep, 300);
          assert.equal(await producer.getResult(id, { timeout: "3s" }), "slept");
          assert.ok(Date.now() - started < 3_000);
        } finally {
          await worker.close();
          await producer.close();
        }
      }),
    );
  });
}

describe("a storage instance of the application's, with results apart", () => {
  test("results go to their store, and close() leaves the instance open", async () => {
    const [queue, results] = [freshPlace("memory", "given"), freshPlace("sqlite", "given")];
    const given = await openStorage(queue.url);
    const omniq = await OmniQ.open(
      { results: results.url, pollInterval: 20 },
      { storageInstance: given },
    );
    try {
      const id = await omniq.enqueue(multiply, 4, 5);
      assert.equal(await omniq.getResult(id, { timeout: "10s" }), 20);
      assert.equal(tokenOfMarker((await given.getOutcome(id))?.result ?? ""), 1);
      await omniq.close();
      assert.equal((await given.getTask(id))?.state, "completed", "still open");
    } finally {
      await omniq.close();
      await given.close();
      await queue.cleanup();
      await results.cleanup();
    }
  });
});

describe("recordEvents: false with results apart", async () => {
  const skip = await skipFor(["redis", "postgres"]);

  test("results and the queue work, and no event reaches anyone", { skip }, async () => {
    const places = [freshPlace("redis", "quiet"), freshPlace("postgres", "quiet")];
    const omniq = await OmniQ.open({
      storage: places[0]?.url,
      results: places[1]?.url,
      recordEvents: false,
      pollInterval: 20,
    });
    try {
      const seen: TaskEvent[] = [];
      const stop = await omniq.subscribe((event) => seen.push(event));
      const id = await omniq.enqueue(multiply, 3, 7);
      assert.equal(await omniq.getResult(id, { timeout: "10s" }), 21);
      await new Promise((resolve) => setTimeout(resolve, 200));
      stop();

      assert.deepEqual(seen, []);
      assert.deepEqual(await omniq.taskEvents(id), []);
      assert.equal((await omniq.getTask(id)).state, "completed");
    } finally {
      await omniq.close();
      for (const place of places) await place.cleanup();
    }
  });

  test("events set together with recordEvents: false is refused, naming both", async () => {
    const place = freshPlace("sqlite", "quiet");
    try {
      await assert.rejects(
        OmniQ.open({ storage: place.url, events: "memory://ev", recordEvents: false }),
        (error: unknown) =>
          error instanceof ConfigError &&
          /events/.test(error.message) &&
          /recordEvents/.test(error.message),
      );
    } finally {
      await place.cleanup();
    }
  });
});

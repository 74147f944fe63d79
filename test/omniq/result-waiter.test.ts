// ResultWaiter: how `getResult` waits for tasks to end, on a real SQLite
// store whose settlements signal the waiter as OmniQ wires it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ResultWaiter } from "../../src/omniq/result-waiter.js";
import type { Storage } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, newTask, START } from "../contract/builders.js";
import { tempSqliteUrl } from "../helpers/temp.js";

let store: ReturnType<typeof tempSqliteUrl>;
let storage: Storage;
let waiter: ResultWaiter;

before(async () => {
  store = tempSqliteUrl();
  storage = await openSqliteStorage(store.url, { clock: new ManualClock(START) });
  waiter = new ResultWaiter(storage, 50);
  storage.subscribe?.((signal) => {
    if (signal.type === "finished") waiter.finished(signal.ids, signal.outcomes);
  });
});

after(async () => {
  waiter.close();
  await storage.close();
  store.remove();
});

/** Enqueues task `id` and claims it, to settle it later. */
async function hold(id: string) {
  await storage.enqueue([newTask({ id })]);
  const [held] = await storage.claim(claimRequest({ limit: 1 }));
  assert.equal(held?.id, id);
  return held as NonNullable<typeof held>;
}

describe("ResultWaiter", () => {
  test("every waiter of a task gets its end, and each is answered once", async () => {
    const held = await hold("many");
    let answers = 0;
    const waits = [1, 2, 3].map(() =>
      waiter.wait("many", Infinity).then((answer) => {
        answers += 1;
        return answer;
      }),
    );

    await storage.settle([completed(held, '"done"')]);

    for (const answer of await Promise.all(waits)) {
      assert.deepEqual(answer, { state: "completed", result: '"done"' });
    }
    waiter.finished(["many"], new Map([["many", { state: "failed" }]]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(answers, 3);
  });

  test("a task that ended before the wait is read at once; an unknown id answers null", async () => {
    const held = await hold("before");
    await storage.settle([completed(held, '"early"')]);

    assert.deepEqual(await waiter.wait("before", 1_000), { state: "completed", result: '"early"' });
    assert.equal(await waiter.wait("nobody", 1_000), null);
  });

  test("a wait past its timeout answers timeout; the task ending later changes nothing", async () => {
    const held = await hold("slow");
    const before = waiter.wait("slow", Infinity);
    const timed = waiter.wait("slow", 30);
    const after = waiter.wait("slow", Infinity);

    assert.equal(await timed, "timeout");

    await storage.settle([completed(held)]);
    assert.deepEqual(await before, { state: "completed", result: '"ok"' });
    assert.deepEqual(await after, { state: "completed", result: '"ok"' });
  });

  test("a finished signal without outcomes makes the waiter read the task", async () => {
    const held = await hold("unsent");
    // Subscribed to nothing: it hears only what this test tells it.
    const own = new ResultWaiter(storage, 60_000);
    try {
      const waiting = own.wait("unsent", 5_000);
      await new Promise((resolve) => setImmediate(resolve));
      await storage.settle([completed(held, '"read"')]);

      // A bare signal, as one from another process is.
      own.finished(["unsent"]);
      assert.deepEqual(await waiting, { state: "completed", result: '"read"' });
    } finally {
      own.close();
    }
  });

  test("close answers every waiter with null", async () => {
    await hold("open");
    const own = new ResultWaiter(storage, 60_000);
    const waits = [own.wait("open", Infinity), own.wait("open", 10_000)];
    await new Promise((resolve) => setImmediate(resolve));

    own.close();

    assert.deepEqual(await Promise.all(waits), [null, null]);
  });

  test("a failing read rejects the wait", async () => {
    const closed = await openSqliteStorage(tempSqliteUrl().url, { watch: false });
    await closed.close();
    const own = new ResultWaiter(closed, 60_000);

    await assert.rejects(own.wait("any", 1_000), /closed/);
    own.close();
  });
});

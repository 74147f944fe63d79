// A worker's stop while its coordinator is still in a round: the stop waits
// for that round, and a second stop meanwhile must still count.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncWorker, OmniQ } from "../../src/index.js";
import type { Storage } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { sleep } from "../fixtures/tasks.js";
import { waitForState } from "../helpers/omniq.js";
import { tempSqliteUrl } from "../helpers/temp.js";

/** `inner` with its look at blocked tasks held until `release` is called. */
function heldResolver(inner: Storage) {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let looking = false;
  const storage = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === "listTasks") {
        return async (filter: Parameters<Storage["listTasks"]>[0]) => {
          if (filter?.state === "blocked") {
            looking = true;
            await released;
          }
          return target.listTasks(filter);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { storage, release, looking: () => looking };
}

describe("worker stop", () => {
  test("a second stop({ timeoutMs: 0 }) while the coordinator ends its round hands back at once", async () => {
    const store = tempSqliteUrl();
    const inner = await openSqliteStorage(store.url);
    const { storage, release, looking } = heldResolver(inner);
    const observer = await OmniQ.open({ storage: store.url, worker: false });
    const worker = new AsyncWorker({ storage, pollInterval: 20 });
    try {
      await worker.start();
      const id = await observer.enqueue(sleep, 30_000);
      await waitForState(observer, id, "running");
      // A claim that finds nothing starts a look at blocked tasks, which hangs here.
      const deadline = Date.now() + 10_000;
      while (!looking() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(looking(), "the coordinator is in its round");

      const first = worker.stop({ timeoutMs: 60_000 });
      const second = worker.stop({ timeoutMs: 0 });
      release();
      await Promise.all([first, second]);

      const task = await observer.getTask(id);
      assert.equal(task.state, "pending", "handed back, not waited for");
      assert.equal(task.attempts, 0);
    } finally {
      release();
      await worker.stop({ timeoutMs: 0 });
      await observer.close();
      await inner.close();
      store.remove();
    }
  });
});

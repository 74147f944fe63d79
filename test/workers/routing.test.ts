import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidArgumentError, withOptions } from "../../src/index.js";
import { add, whereAmI } from "../fixtures/workers/tasks.js";
import { openTestOmniQ } from "../helpers/omniq.js";
import { sleep } from "./helpers.js";

describe("routing tasks to worker types", () => {
  test("one OmniQ runs several worker types; a task's worker option routes it", async () => {
    const { omniq, close } = await openTestOmniQ("sqlite", {
      worker: { types: ["async", "thread", "process"], concurrency: 1 },
    });
    try {
      const here = await omniq.getResult(await omniq.enqueue(whereAmI), { timeout: "15s" });
      assert.deepEqual([here.threadId, here.pid], [0, process.pid]);

      const threadId = await omniq.enqueue(whereAmI.with({ worker: "thread" }));
      const thread = await omniq.getResult(threadId, { timeout: "15s" });
      assert.notEqual(thread.threadId, 0);
      assert.equal(thread.pid, process.pid);
      assert.equal((await omniq.getTask(threadId)).worker, "thread");

      const child = await omniq.getResult(
        await omniq.enqueue(whereAmI.with({ worker: "process" })),
        {
          timeout: "15s",
        },
      );
      assert.notEqual(child.pid, process.pid);
    } finally {
      await close();
    }
  });

  test("defaultWorker covers tasks that name no worker", async () => {
    const { omniq, close } = await openTestOmniQ("memory", {
      defaultWorker: "thread",
      worker: { concurrency: 1 },
    });
    try {
      const where = await omniq.getResult(await omniq.enqueue(whereAmI), { timeout: "15s" });
      assert.notEqual(where.threadId, 0);
    } finally {
      await close();
    }
  });

  test("a task routed to a worker type nobody runs waits for one", async () => {
    const { omniq, close } = await openTestOmniQ("memory", { worker: { types: ["async"] } });
    try {
      const waiting = await omniq.enqueue(add.with({ worker: "gevent" }), 1, 1);
      assert.equal(await omniq.getResult(await omniq.enqueue(add, 2, 2), { timeout: "15s" }), 4);
      await sleep(100);
      assert.equal((await omniq.getTask(waiting)).state, "pending");
    } finally {
      await close();
    }
  });

  test("a plain function cannot be sent to a thread or process worker", async () => {
    const { omniq, close } = await openTestOmniQ("memory", { worker: false });
    try {
      for (const worker of ["thread", "process"] as const) {
        const plain = withOptions((x: number) => x * 2, { worker });
        await assert.rejects(omniq.enqueue(plain, 2), (error: unknown) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.match(error.message, new RegExp(`cannot run on a ${worker} worker`));
          assert.match(error.message, /defineTask\(/);
          return true;
        });
      }
    } finally {
      await close();
    }
  });
});

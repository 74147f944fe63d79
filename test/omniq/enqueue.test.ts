import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  defineTask,
  InvalidArgumentError,
  SerializationError,
  withOptions,
} from "../../src/index.js";
import { echo, multiply } from "../fixtures/tasks.js";
import { EMBEDDED, openTestOmniQ } from "../helpers/omniq.js";

const threadTask = defineTask({ name: "test.threadOnly", worker: "thread" }, () => 1);

for (const kind of EMBEDDED) {
  describe(`enqueue on ${kind}`, () => {
    test("values keep their types through storage", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const value = {
          when: new Date(1_700_000_000_000),
          big: 2n ** 70n,
          map: new Map<unknown, unknown>([["k", new Set([1, 2])]]),
          bytes: new Uint8Array([1, 2, 3]),
          buffer: Buffer.from("hi"),
          missing: undefined,
          list: [undefined, 1],
        };
        const back = await omniq.getResult(await omniq.enqueue(echo, value), { timeout: "5s" });
        assert.deepEqual(back, value);
        assert.ok(Buffer.isBuffer((back as typeof value).buffer));
      } finally {
        await close();
      }
    });

    test("a value that cannot be stored is refused with its path, and nothing is stored", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const error = await omniq.enqueue(echo, { cb: () => 1 }).catch((e: unknown) => e);
        assert.ok(error instanceof SerializationError);
        assert.equal(error.path, "args[0].cb");
        assert.match(error.message, /args\[0\]\.cb is a function/);
        assert.deepEqual(await omniq.countTasks(), {});
      } finally {
        await close();
      }
    });

    test("a batch is stored all or nothing", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const ids = await omniq.enqueueMany([multiply.call(1, 2), multiply.call(3, 4)]);
        assert.equal(ids.length, 2);

        const bad = omniq.enqueueMany([multiply.call(5, 6), { task: echo, args: [Symbol("no")] }]);
        await assert.rejects(bad, SerializationError);

        const dup = omniq.enqueueMany([
          { task: multiply, args: [1, 1], options: { id: "same" } },
          { task: multiply, args: [2, 2], options: { id: "same" } },
        ]);
        await assert.rejects(dup);
        assert.deepEqual(await omniq.countTasks(), { default: { pending: 2 } });
      } finally {
        await close();
      }
    });

    test("delay and runAt hold a task back; options come from call, then definition", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const delayed = await omniq.enqueue(multiply.with({ delay: "1h", queue: "later" }), 1, 1);
        const task = await omniq.getTask(delayed);
        assert.equal(task.state, "scheduled");
        assert.equal(task.queue, "later");
        assert.ok(task.runAt - task.createdAt >= 3_600_000);

        const at = new Date(Date.now() + 60_000);
        const timed = await omniq.getTask(await omniq.enqueue(multiply.with({ runAt: at }), 1, 1));
        assert.equal(timed.runAt, at.getTime());
      } finally {
        await close();
      }
    });

    test("bad options get a clear error naming the option", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        await assert.rejects(
          omniq.enqueue(multiply.with({ priority: 1.5 }), 1, 1),
          /option priority: 1.5 is not allowed/,
        );
        await assert.rejects(
          omniq.enqueue(multiply.with({ delay: "soon" }), 1, 1),
          /option delay: "soon" is not a duration/,
        );
        await assert.rejects(
          omniq.enqueue(multiply.with({ retries: -1 }), 1, 1),
          /option retries: -1 is not allowed/,
        );
        assert.deepEqual(await omniq.countTasks(), {});
      } finally {
        await close();
      }
    });

    test("a plain function runs on the in-process worker", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const square = (x: number) => x * x;
        assert.equal(await omniq.getResult(await omniq.enqueue(square, 9), { timeout: "5s" }), 81);
        const id = await omniq.enqueue(withOptions(square, { priority: 3 }), 4);
        assert.equal(await omniq.getResult(id, { timeout: "5s" }), 16);
        assert.equal((await omniq.getTask(id)).priority, 3);
      } finally {
        await close();
      }
    });

    test("a plain function sent to a thread worker fails at enqueue, saying how to define it", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const resize = (path: string) => path;
        const error = await omniq
          .enqueue(withOptions(resize, { worker: "thread" }), "a.png")
          .catch((e: unknown) => e);
        assert.ok(error instanceof InvalidArgumentError);
        assert.match(error.message, /defineTask\("resize", fn\)/);
        // A defined task routed to threads is fine.
        assert.equal(typeof (await omniq.enqueue(threadTask)), "string");
      } finally {
        await close();
      }
    });
  });
}

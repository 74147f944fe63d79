import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ResultTimeoutError,
  TaskCancelledError,
  TaskExpiredError,
  TaskFailedError,
  UnknownTaskError,
} from "../../src/index.js";
import { explode, multiply, sleep, syncAdd, whoAmI } from "../fixtures/tasks.js";
import { EMBEDDED, openTestOmniQ, waitForState } from "../helpers/omniq.js";

for (const kind of EMBEDDED) {
  describe(`results on ${kind}`, () => {
    test("an async task's result comes back typed", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(multiply, 6, 7);
        const product: number = await omniq.getResult(id, { timeout: "5s" });
        assert.equal(product, 42);
      } finally {
        await close();
      }
    });

    test("a sync task runs too, and the task sees its own context", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const sum = await omniq.getResult(await omniq.enqueue(syncAdd, 2, 3), { timeout: "5s" });
        assert.equal(sum, 5);

        const id = await omniq.enqueue(whoAmI);
        const seen = await omniq.getResult(id, { timeout: "5s" });
        assert.deepEqual(seen, { id, name: "test.whoAmI", queue: "default", attempt: 1 });
      } finally {
        await close();
      }
    });

    test("a plain function's thenable is awaited; a result that cannot be stored fails the task", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        // biome-ignore lint/suspicious/noThenProperty: the test is about a thenable that is no promise
        const thenable = () => ({ then: (resolve: (value: number) => void) => resolve(7) });
        assert.equal(await omniq.getResult(await omniq.enqueue(thenable), { timeout: "5s" }), 7);

        const id = await omniq.enqueue(() => () => 1);
        const error = await omniq.getResult(id, { timeout: "5s" }).catch((e: unknown) => e);
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.remote.name, "SerializationError");
        assert.match(error.remote.message, /result is a function/);
      } finally {
        await close();
      }
    });

    test("a failed task throws TaskFailedError carrying the task's error", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(explode, "kaboom");
        const error = await omniq.getResult(id, { timeout: "5s" }).catch((e: unknown) => e);
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.remote.name, "Boom");
        assert.equal(error.remote.message, "kaboom");
        assert.match(error.remote.stack ?? "", /tasks\.ts/);

        const task = await omniq.getTask(id);
        assert.equal(task.state, "failed");
        assert.equal(task.attempts, 1);
        assert.equal(task.lastError?.message, "kaboom");
      } finally {
        await close();
      }
    });

    test("waiting past the timeout throws ResultTimeoutError and leaves the task alone", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const id = await omniq.enqueue(multiply, 1, 2);
        await assert.rejects(omniq.getResult(id, { timeout: 50 }), ResultTimeoutError);
        assert.equal((await omniq.getTask(id)).state, "pending");
      } finally {
        await close();
      }
    });

    test("a cancelled task throws TaskCancelledError with the reason", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const id = await omniq.enqueue(multiply, 1, 2);
        assert.equal(await omniq.cancel(id, "not needed"), "cancelled");
        const error = await omniq.getResult(id, { timeout: "1s" }).catch((e: unknown) => e);
        assert.ok(error instanceof TaskCancelledError);
        assert.match(error.message, /not needed/);
      } finally {
        await close();
      }
    });

    test("a task whose time-to-live passes before it starts throws TaskExpiredError", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: { queues: ["other"] } });
      try {
        const id = await omniq.enqueue(multiply.with({ ttl: 30 }), 1, 2);
        await new Promise((resolve) => setTimeout(resolve, 60));
        // Housekeeping runs on the worker's timer; ask for it now instead of waiting.
        await omniq.storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 60_000 });
        await assert.rejects(omniq.getResult(id, { timeout: "1s" }), TaskExpiredError);
      } finally {
        await close();
      }
    });

    test("an unknown id throws UnknownTaskError", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        await assert.rejects(omniq.getResult("no-such-task", { timeout: "1s" }), UnknownTaskError);
        await assert.rejects(omniq.getTask("no-such-task"), UnknownTaskError);
      } finally {
        await close();
      }
    });

    test("cancelling a running task fires its signal and ends it as cancelled", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(sleep, 30_000);
        await waitForState(omniq, id, "running");
        assert.equal(await omniq.cancel(id, "user pressed stop"), "requested");
        const error = await omniq.getResult(id, { timeout: "5s" }).catch((e: unknown) => e);
        assert.ok(error instanceof TaskCancelledError, String(error));
        assert.match(error.message, /cancelled/);
      } finally {
        await close();
      }
    });
  });
}

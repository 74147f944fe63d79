// Dead letters, retry, purge and idempotency keys through the facade.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidArgumentError } from "../../src/index.js";
import { echo, explode, multiply } from "../fixtures/tasks.js";
import { EMBEDDED, openTestOmniQ, waitForState } from "../helpers/omniq.js";

for (const kind of EMBEDDED) {
  describe(`dead letters and keys on ${kind}`, () => {
    test("a task that failed for good is listed, retried, and fails again on its own", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(explode, "bad input");
        await waitForState(omniq, id, "failed");

        const [dead] = await omniq.listDeadLetters();
        assert.equal(dead?.id, id);
        assert.equal(dead?.attempts, 1);
        assert.equal(dead?.lastError?.message, "bad input");

        assert.equal(await omniq.retry(id), "requeued");
        await waitForState(omniq, id, "failed");
        const events = (await omniq.taskEvents(id)).map((event) => event.type);
        assert.deepEqual(events, [
          "enqueued",
          "executing",
          "error",
          "requeued",
          "executing",
          "error",
        ]);
        assert.equal(await omniq.retry("no-such-task"), "unknown");
      } finally {
        await close();
      }
    });

    test("purge deletes finished tasks batch by batch, telling its progress", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const ids = await omniq.enqueueMany(
          Array.from({ length: 2_500 }, (_, i) => echo.with({ delay: "1h" }).call(i)),
        );
        for (const id of ids) await omniq.cancel(id);
        const kept = await omniq.enqueue(echo, "still waiting");
        const progress: number[] = [];

        const deleted = await omniq.purge({
          states: ["cancelled"],
          onProgress: (count) => progress.push(count),
        });

        assert.equal(deleted, 2_500);
        assert.deepEqual(progress, [1_000, 2_000, 2_500]);
        assert.deepEqual(
          (await omniq.listTasks()).map((task) => task.id),
          [kept],
        );
      } finally {
        await close();
      }
    });

    test("purge refuses a state that is not final", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        const id = await omniq.enqueue(echo, 1);
        await assert.rejects(omniq.purge({ states: ["pending"] }), (error) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.match(error.message, /pending are not final; allowed: completed, failed/);
          return true;
        });
        assert.equal((await omniq.getTask(id)).state, "pending");
      } finally {
        await close();
      }
    });

    test("an idempotency key answers the live task's id, and is free once it finished", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const once = multiply.with({ idempotencyKey: "invoice-42", delay: "200ms" });
        const first = await omniq.enqueue(once, 6, 7);
        const again = await omniq.enqueue(once, 6, 7);
        assert.equal(again, first);

        assert.equal(await omniq.getResult(first, { timeout: "5s" }), 42);
        const later = await omniq.enqueue(once, 6, 7);
        assert.notEqual(later, first);
      } finally {
        await close();
      }
    });
  });
}

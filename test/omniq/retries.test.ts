import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defineTask, TaskFailedError } from "../../src/index.js";
import { flaky, refuse, sleep } from "../fixtures/tasks.js";
import { EMBEDDED, openTestOmniQ } from "../helpers/omniq.js";

const customDelays: number[] = [];
const customBackoff = defineTask(
  {
    name: "test.customBackoff",
    retries: 2,
    backoff: (attempt) => {
      customDelays.push(attempt);
      return 5;
    },
  },
  () => {
    throw new Error("always");
  },
);

for (const kind of EMBEDDED) {
  describe(`retries and timeouts on ${kind}`, () => {
    test("a failing task is retried with backoff until it succeeds", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(flaky, 3);
        assert.equal(await omniq.getResult(id, { timeout: "5s" }), 3);

        const types = (await omniq.taskEvents(id)).map((e) => e.type);
        assert.deepEqual(types, [
          "enqueued",
          "executing",
          "error",
          "retry",
          "executing",
          "error",
          "retry",
          "executing",
          "completed",
        ]);
      } finally {
        await close();
      }
    });

    test("retries run out: the task fails for good after retries + 1 attempts", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(flaky.with({ retries: 1 }), 5);
        await assert.rejects(omniq.getResult(id, { timeout: "5s" }), TaskFailedError);
        assert.equal((await omniq.getTask(id)).attempts, 2);
      } finally {
        await close();
      }
    });

    test("NonRetryableError fails the task at once, whatever retries are left", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(refuse);
        const error = await omniq.getResult(id, { timeout: "5s" }).catch((e: unknown) => e);
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.remote.name, "NonRetryableError");
        assert.equal((await omniq.getTask(id)).attempts, 1);
      } finally {
        await close();
      }
    });

    test("a custom backoff function is called with each failed attempt", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        customDelays.length = 0;
        const id = await omniq.enqueue(customBackoff);
        await assert.rejects(omniq.getResult(id, { timeout: "5s" }), TaskFailedError);
        assert.deepEqual(customDelays, [1, 2]);
      } finally {
        await close();
      }
    });

    test("exponential backoff waits before the retry", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const options = {
          retries: 1,
          backoff: { type: "exponential", base: 300, jitter: false },
        } as const;
        const id = await omniq.enqueue(flaky.with(options), 2);
        assert.equal(await omniq.getResult(id, { timeout: "5s" }), 2);

        const events = await omniq.taskEvents(id);
        const [first, second] = events.filter((e) => e.type === "executing");
        const retry = events.find((e) => e.type === "retry");
        assert.ok(first && second && retry?.runAt);
        assert.ok(
          retry.runAt - first.at >= 300,
          `retry set ${retry.runAt - first.at} ms after the start`,
        );
        assert.ok(second.at >= retry.runAt, "the second attempt did not start before its time");
      } finally {
        await close();
      }
    });

    test("a timeout fires the task's signal and fails the attempt with TaskTimeoutError", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(sleep.with({ timeout: 50 }), 30_000);
        const error = await omniq.getResult(id, { timeout: "5s" }).catch((e: unknown) => e);
        assert.ok(error instanceof TaskFailedError);
        assert.equal(error.remote.name, "TaskTimeoutError");
      } finally {
        await close();
      }
    });
  });
}

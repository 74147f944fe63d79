// Dependencies, chains and groups through the facade, on the embedded backends.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidArgumentError, TaskCancelledError } from "../../src/index.js";
import { echo, explode, multiply, sleep, sum, syncAdd } from "../fixtures/tasks.js";
import { EMBEDDED, openTestOmniQ, waitForState } from "../helpers/omniq.js";

for (const kind of EMBEDDED) {
  describe(`dependencies on ${kind}`, () => {
    test("a task waits until its dependency completed", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const first = await omniq.enqueue(sleep, 150);
        const second = await omniq.enqueue(echo.with({ dependsOn: [first] }), "after");
        assert.equal((await omniq.getTask(second)).state, "blocked");

        assert.equal(await omniq.getResult(second, { timeout: "5s" }), "after");

        const [a, b] = [await omniq.getTask(first), await omniq.getTask(second)];
        assert.ok((b.startedAt ?? 0) >= (a.finishedAt ?? Infinity), "ran after its dependency");
      } finally {
        await close();
      }
    });

    test("a chain hands each step the previous result", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        // multiply(2, 3) = 6, then syncAdd(6, 4) = 10, then echo(10).
        const ids = await omniq.chain([multiply.call(2, 3), syncAdd.after(4), echo]);

        assert.equal(ids.length, 3);
        assert.equal(await omniq.getResult(ids[2] as string, { timeout: "5s" }), 10);
        assert.equal(await omniq.getResult(ids[1] as string), 10);
      } finally {
        await close();
      }
    });

    test("a group's final task gets every member's result, in order", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const { members, final } = await omniq.group(
          [multiply.call(1, 2), multiply.call(3, 4), multiply.call(5, 6)],
          sum,
        );

        assert.equal(members.length, 3);
        assert.equal(await omniq.getResult(final as string, { timeout: "5s" }), 2 + 12 + 30);
      } finally {
        await close();
      }
    });

    test("when a step fails for good, the rest of the chain is cancelled, naming it", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const [failing, next, last] = await omniq.chain([explode.call("no"), echo, echo]);

        await assert.rejects(omniq.getResult(last as string, { timeout: "5s" }), (error) => {
          assert.ok(error instanceof TaskCancelledError);
          return true;
        });
        const cancelled = await omniq.getTask(next as string);
        assert.equal(cancelled.state, "cancelled");
        assert.match(cancelled.lastError?.message ?? "", new RegExp(`${failing} failed for good`));
        assert.match((await omniq.getTask(last as string)).lastError?.message ?? "", /cancelled/);
      } finally {
        await close();
      }
    });

    test("cancelling a dependency cancels what waits for it", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const first = await omniq.enqueue(echo.with({ delay: "1h" }), 1);
        const second = await omniq.enqueue(echo.with({ dependsOn: [first] }), 2);

        await omniq.cancel(first);

        await waitForState(omniq, second, "cancelled");
        const reason = (await omniq.getTask(second)).lastError?.message ?? "";
        assert.equal(reason, `dependency ${first} was cancelled`);
      } finally {
        await close();
      }
    });

    test("a dependency that is not stored is refused at enqueue, storing nothing", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        await assert.rejects(
          omniq.enqueueMany([
            echo.call("kept?"),
            { task: echo, args: ["x"], options: { dependsOn: ["no-such-task"] } },
          ]),
          (error) => {
            assert.ok(error instanceof InvalidArgumentError);
            assert.match(error.message, /dependsOn: no-such-task is not a stored task/);
            return true;
          },
        );
        assert.deepEqual(await omniq.listTasks(), []);
      } finally {
        await close();
      }
    });
  });
}

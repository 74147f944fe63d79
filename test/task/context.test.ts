// currentTask(): which task the running code belongs to. Plain functions get
// it while they run; async functions keep it through their awaits.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { currentTask, defineTask, OmniQ } from "../../src/index.js";
import { runAsTask, runPlainAsTask, type TaskContext } from "../../src/task/context.js";

function context(id: string): TaskContext {
  return { id, name: "t", queue: "default", attempt: 1, signal: new AbortController().signal };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

const plainId = defineTask("test.context.plain", () => currentTask()?.id);
const asyncId = defineTask("test.context.async", async () => {
  await tick();
  return currentTask()?.id;
});
const plainThenId = defineTask("test.context.plainThen", () =>
  tick().then(() => currentTask()?.id ?? "none"),
);

describe("currentTask", () => {
  test("a plain function sees its task while it runs, and nothing after", () => {
    assert.equal(
      runPlainAsTask(context("a"), () => currentTask()?.id),
      "a",
    );
    assert.equal(currentTask(), undefined);
  });

  test("nested plain runs restore the outer task, also when the inner one throws", () => {
    runPlainAsTask(context("outer"), () => {
      assert.throws(() =>
        runPlainAsTask(context("inner"), () => {
          assert.equal(currentTask()?.id, "inner");
          throw new Error("inner fails");
        }),
      );
      assert.equal(currentTask()?.id, "outer");
    });
    assert.equal(currentTask(), undefined);
  });

  test("an async run keeps its task through awaits, and a plain run inside it takes over only while it runs", async () => {
    await runAsTask(context("async"), async () => {
      await tick();
      assert.equal(currentTask()?.id, "async");
      assert.equal(
        runPlainAsTask(context("plain"), () => currentTask()?.id),
        "plain",
      );
      await tick();
      assert.equal(currentTask()?.id, "async");
    });
  });

  test("through a worker: plain and async tasks see their own ids; a plain one's continuations do not", async () => {
    await using omniq = await OmniQ.open({ storage: "memory://", pollInterval: 20 });

    const plain = await omniq.enqueue(plainId);
    const late = await omniq.enqueue(asyncId);
    const then = await omniq.enqueue(plainThenId);

    assert.equal(await omniq.getResult(plain, { timeout: "5s" }), plain);
    assert.equal(await omniq.getResult(late, { timeout: "5s" }), late);
    // The documented limit (README, Known limits): declare it async to keep it.
    assert.equal(await omniq.getResult(then, { timeout: "5s" }), "none");
  });
});

// The behaviour thread and process workers share, run against real threads
// and real child processes by thread-worker.test.ts and process-worker.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TaskModuleError } from "../../src/index.js";
import {
  add,
  double,
  exhaustMemory,
  exit,
  exitOnce,
  fail,
  remoteBackoff,
  throwUncaught,
  whereAmI,
} from "../fixtures/workers/tasks.js";
import { freshUrl } from "../helpers/omniq.js";
import {
  BROKEN_MODULE,
  failure,
  memberOf,
  type PoolType,
  startPool,
  TASKS_MODULE,
  workerClass,
} from "./pool-harness.js";
import { poolLifecycleSuite } from "./pool-lifecycle.js";

export { startPool } from "./pool-harness.js";

export function poolSuite(type: PoolType): void {
  const label = type === "thread" ? "thread" : "child process";

  describe(`${type} worker: running tasks`, () => {
    test(`runs a task in a ${label}, loading its module from the task record`, async () => {
      const pool = await startPool(type);
      try {
        assert.deepEqual(pool.worker.taskNames(), [], "no tasks option: nothing loaded up front");
        const where = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        if (type === "thread") assert.notEqual(where.threadId, 0);
        else assert.notEqual(where.pid, process.pid);
        assert.equal(where.attempt, 1, "currentTask() works there");

        const id = await pool.producer.enqueue(
          double,
          new Float64Array([1.5, -2]),
          Buffer.from("hi"),
        );
        const result = await pool.producer.getResult(id, { timeout: "5s" });
        assert.deepEqual([...result.values], [3, -4]);
        assert.ok(result.values instanceof Float64Array);
        assert.ok(Buffer.isBuffer(result.bytes) && result.bytes.toString() === "hi!");
        assert.ok(result.at instanceof Date);
      } finally {
        await pool.close();
      }
    });

    test("imports the tasks modules in every member before it starts", async () => {
      const pool = await startPool(type, { tasks: [TASKS_MODULE], concurrency: 2 });
      try {
        assert.ok(pool.worker.taskNames().includes("workers.add"));
        assert.equal(
          await pool.producer.getResult(await pool.producer.enqueue(add, 2, 3), { timeout: "5s" }),
          5,
        );
      } finally {
        await pool.close();
      }
    });

    test("a tasks module that fails to load makes start() fail with TaskModuleError", async () => {
      const store = freshUrl("sqlite");
      const Type = workerClass(type);
      const worker = new Type({ storage: store.url, concurrency: 2, tasks: [BROKEN_MODULE] });
      try {
        const error = await worker.start().catch((e: unknown) => e);
        assert.ok(error instanceof TaskModuleError, String(error));
        assert.match(error.message, /broken on purpose/);
        await worker.stop();
      } finally {
        store.remove();
      }
    });

    test("a task's own error keeps its name; the member goes on", async () => {
      const pool = await startPool(type);
      try {
        const before = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        const error = await failure(pool.producer, await pool.producer.enqueue(fail, "bad input"));
        assert.equal(error.remote.name, "Broken");
        assert.equal(error.remote.message, "bad input");
        const after = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "5s",
        });
        assert.equal(memberOf(type, after), memberOf(type, before));
      } finally {
        await pool.close();
      }
    });

    test("a backoff function runs where the task runs", async () => {
      const pool = await startPool(type);
      try {
        const id = await pool.producer.enqueue(remoteBackoff);
        assert.equal(await pool.producer.getResult(id, { timeout: "15s" }), "retried");
      } finally {
        await pool.close();
      }
    });
  });

  describe(`${type} worker: a ${label} that dies fails only its own task`, () => {
    test("process.exit: TaskCrashedError, then a new member runs the next task", async () => {
      const pool = await startPool(type);
      try {
        const before = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        const error = await failure(pool.producer, await pool.producer.enqueue(exit, 3));
        assert.equal(error.remote.name, "TaskCrashedError");
        assert.match(error.remote.message, new RegExp(`${label} \\d+ exited with code 3`));

        const after = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        assert.notEqual(memberOf(type, after), memberOf(type, before));
      } finally {
        await pool.close();
      }
    });

    test("a crashed attempt is retried as configured", async () => {
      const pool = await startPool(type);
      try {
        const id = await pool.producer.enqueue(exitOnce);
        assert.equal(await pool.producer.getResult(id, { timeout: "20s" }), "second time lucky");
        assert.equal((await pool.producer.getTask(id)).attempts, 2);
      } finally {
        await pool.close();
      }
    });

    test("an uncaught exception fails the task with its error named", async () => {
      const pool = await startPool(type);
      try {
        const error = await failure(
          pool.producer,
          await pool.producer.enqueue(throwUncaught, "stray timer"),
        );
        assert.equal(error.remote.name, "TaskCrashedError");
        assert.match(error.remote.message, /died of an uncaught Broken: stray timer/);
        assert.equal(
          await pool.producer.getResult(await pool.producer.enqueue(add, 1, 1), { timeout: "15s" }),
          2,
        );
      } finally {
        await pool.close();
      }
    });

    test("running out of memory (memoryLimitMb) fails the task; the pool goes on", async () => {
      const pool = await startPool(type, { memoryLimitMb: 64 });
      try {
        const error = await failure(pool.producer, await pool.producer.enqueue(exhaustMemory));
        assert.equal(error.remote.name, "TaskCrashedError");
        assert.match(error.remote.message, /ran out of memory \(memoryLimitMb 64\)/);
        assert.equal(
          await pool.producer.getResult(await pool.producer.enqueue(add, 2, 2), { timeout: "15s" }),
          4,
        );
      } finally {
        await pool.close();
      }
    });
  });

  poolLifecycleSuite(type);
}

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TaskFailedError } from "../../src/index.js";
import { add, killSelf, whereAmI } from "../fixtures/workers/tasks.js";
import { isAlive, until } from "./helpers.js";
import { poolSuite, startPool } from "./pool-suite.js";

poolSuite("process");

describe("process worker: signals from outside", () => {
  test("a child killed by a signal fails only its own task; a new child takes over", async () => {
    const pool = await startPool("process");
    try {
      const before = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
        timeout: "15s",
      });
      const error = await pool.producer
        .getResult(await pool.producer.enqueue(killSelf, "SIGKILL"), { timeout: "15s" })
        .catch((e: unknown) => e);
      assert.ok(error instanceof TaskFailedError);
      assert.equal(error.remote.name, "TaskCrashedError");
      assert.match(
        error.remote.message,
        new RegExp(`child process ${before.pid} was killed by SIGKILL`),
      );

      const after = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
        timeout: "15s",
      });
      assert.notEqual(after.pid, before.pid);
      assert.equal(
        await pool.producer.getResult(await pool.producer.enqueue(add, 1, 2), { timeout: "5s" }),
        3,
      );
    } finally {
      await pool.close();
    }
  });

  test("stop() ends every child process", async () => {
    const pool = await startPool("process", { concurrency: 2 });
    const where = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
      timeout: "15s",
    });
    assert.ok(isAlive(where.pid));
    await pool.close();
    await until(() => !isAlive(where.pid), `child ${where.pid} to end`, 5_000);
  });
});

// Signals, recycling, leases and stopping of thread and process workers,
// run by pool-suite.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { awaitSignal, ignoreSignal, leak, spin, whereAmI } from "../fixtures/workers/tasks.js";
import { waitForState } from "../helpers/omniq.js";
import { lines, sleep, until } from "./helpers.js";
import { failure, memberOf, type PoolType, startPool, workerClass } from "./pool-harness.js";

export function poolLifecycleSuite(type: PoolType): void {
  const label = type === "thread" ? "thread" : "child process";

  describe(`${type} worker: signals reach the ${label}`, () => {
    test("a timeout fires currentTask().signal inside it", async () => {
      const pool = await startPool(type);
      try {
        const file = pool.file("signal.log");
        const error = await failure(
          pool.producer,
          await pool.producer.enqueue(awaitSignal.with({ timeout: 300 }), file),
        );
        assert.equal(error.remote.name, "TaskTimeoutError");
        await until(() => lines(file).length === 2, "the abort line");
        assert.match(
          lines(file)[1] ?? "",
          /^aborted TaskTimeoutError: attempt 1 timed out after 300 ms/,
        );
      } finally {
        await pool.close();
      }
    });

    test("a timed-out task that ignores its signal is killed after abortGrace", async () => {
      const pool = await startPool(type, { abortGrace: 200 });
      try {
        const before = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        const file = pool.file("ignore.log");
        const id = await pool.producer.enqueue(ignoreSignal.with({ timeout: 100 }), 4_000, file);
        assert.equal((await failure(pool.producer, id)).remote.name, "TaskTimeoutError");

        const after = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        assert.notEqual(memberOf(type, after), memberOf(type, before), "the member was replaced");
        assert.deepEqual(lines(file), ["started"]);
      } finally {
        await pool.close();
      }
    });

    test("cancel() fires the signal inside it; the task ends cancelled", async () => {
      const pool = await startPool(type);
      try {
        const file = pool.file("cancel.log");
        const id = await pool.producer.enqueue(awaitSignal, file);
        await until(() => lines(file).length === 1, "the task to start");
        assert.equal(await pool.producer.cancel(id, "no longer needed"), "requested");

        await waitForState(pool.producer, id, "cancelled", 10_000);
        await until(() => lines(file).length === 2, "the abort line");
        assert.match(lines(file)[1] ?? "", /^aborted Error: cancelled while running/);
      } finally {
        await pool.close();
      }
    });

    test("cancel() of a task that ignores its signal kills its member after abortGrace", async () => {
      const pool = await startPool(type, { abortGrace: 200 });
      try {
        const before = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        const file = pool.file("ignore.log");
        const id = await pool.producer.enqueue(ignoreSignal, 4_000, file);
        await until(() => lines(file).length === 1, "the task to start");
        await pool.producer.cancel(id);
        await waitForState(pool.producer, id, "cancelled", 10_000);

        const after = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        assert.notEqual(memberOf(type, after), memberOf(type, before));
      } finally {
        await pool.close();
      }
    });
  });

  describe(`${type} worker: tasks waiting for a free ${label}`, () => {
    test("a task cancelled while it waits for a free member never starts", async () => {
      const pool = await startPool(type);
      try {
        const busy = pool.file("busy.log");
        const waiting = pool.file("waiting.log");
        const first = await pool.producer.enqueue(ignoreSignal, 800, busy);
        await until(() => lines(busy).length === 1, "the first task to start");
        const second = await pool.producer.enqueue(ignoreSignal, 10, waiting);
        await waitForState(pool.producer, second, "running", 10_000);

        assert.equal(await pool.producer.cancel(second), "requested");
        await waitForState(pool.producer, second, "cancelled", 10_000);
        assert.equal(await pool.producer.getResult(first, { timeout: "15s" }), "finished");
        assert.deepEqual(lines(waiting), [], "never started");
      } finally {
        await pool.close();
      }
    });
  });

  describe(`${type} worker: recycling`, () => {
    test("recycleAfterTasks replaces a member after that many tasks", async () => {
      const pool = await startPool(type, { recycleAfterTasks: 2 });
      try {
        const members: number[] = [];
        for (let i = 0; i < 4; i += 1) {
          const where = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
            timeout: "15s",
          });
          members.push(memberOf(type, where));
        }
        assert.equal(members[0], members[1]);
        assert.equal(members[2], members[3]);
        assert.notEqual(members[1], members[2]);
      } finally {
        await pool.close();
      }
    });

    test("recycleAboveMb replaces a member left above that size", async () => {
      // A child's resident set starts far above a thread's heap in use.
      const pool = await startPool(type, { recycleAboveMb: type === "thread" ? 60 : 250 });
      try {
        const first = await pool.producer.getResult(await pool.producer.enqueue(leak, 1), {
          timeout: "15s",
        });
        const same = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "5s",
        });
        assert.equal(memberOf(type, same), memberOf(type, first), "below the limit: kept");

        await pool.producer.getResult(await pool.producer.enqueue(leak, 300), { timeout: "15s" });
        const after = await pool.producer.getResult(await pool.producer.enqueue(whereAmI), {
          timeout: "15s",
        });
        assert.notEqual(memberOf(type, after), memberOf(type, first), "above the limit: replaced");
      } finally {
        await pool.close();
      }
    });
  });

  describe(`${type} worker: leases and stopping`, () => {
    test("a task blocking its member's loop longer than the lease is not run twice", async () => {
      const pool = await startPool(type, { lease: 300 });
      const rival = new (workerClass(type))({
        storage: pool.url,
        concurrency: 1,
        pollInterval: 20,
        lease: 300,
      });
      await rival.start();
      try {
        const file = pool.file("runs.log");
        const id = await pool.producer.enqueue(spin, 1_500, file);
        assert.equal(await pool.producer.getResult(id, { timeout: "15s" }), 1_500);
        assert.equal(lines(file).length, 1, "run once");
        assert.equal((await pool.producer.getTask(id)).leaseLosses, 0);
      } finally {
        await rival.stop();
        await pool.close();
      }
    });

    test("stop() lets a running task finish", async () => {
      const pool = await startPool(type, { stopTimeout: "10s" });
      try {
        const file = pool.file("finish.log");
        const id = await pool.producer.enqueue(ignoreSignal, 300, file);
        await until(() => lines(file).length === 1, "the task to start");
        await pool.worker.stop();
        assert.equal((await pool.producer.getTask(id)).state, "completed");
      } finally {
        await pool.close();
      }
    });

    test("stop() past its deadline hands the task back and ends the member", async () => {
      const pool = await startPool(type, { stopTimeout: 100, abortGrace: 100 });
      try {
        const file = pool.file("handback.log");
        const id = await pool.producer.enqueue(ignoreSignal, 1_500, file);
        await until(() => lines(file).length === 1, "the task to start");
        await pool.worker.stop();

        const task = await pool.producer.getTask(id);
        assert.equal(task.state, "pending");
        assert.equal(task.attempts, 0);
        await sleep(1_700);
        assert.deepEqual(lines(file), ["started"], "the member was ended before the task finished");
      } finally {
        await pool.close();
      }
    });

    test("a second stop({ timeoutMs: 0 }) hands back at once", async () => {
      const pool = await startPool(type, { stopTimeout: "30s", abortGrace: "30s" });
      try {
        const file = pool.file("hurry.log");
        const id = await pool.producer.enqueue(ignoreSignal, 20_000, file);
        await until(() => lines(file).length === 1, "the task to start");

        const started = Date.now();
        const graceful = pool.worker.stop();
        await sleep(100);
        await pool.worker.stop({ timeoutMs: 0 });
        await graceful;
        assert.ok(Date.now() - started < 15_000, "did not wait for the stop timeout or the grace");
        assert.equal((await pool.producer.getTask(id)).state, "pending");
      } finally {
        await pool.close();
      }
    });
  });
}

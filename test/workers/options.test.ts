import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, test } from "node:test";
import {
  AsyncWorker,
  GeventWorker,
  InvalidArgumentError,
  ProcessWorker,
  ThreadWorker,
  type WorkerOptions,
} from "../../src/index.js";

describe("worker options", () => {
  test("each worker type has its own default concurrency", () => {
    const storage = "memory://options";
    assert.equal(new AsyncWorker({ storage }).concurrency, 10);
    assert.equal(new GeventWorker({ storage }).concurrency, 1_000);
    assert.equal(new ThreadWorker({ storage }).concurrency, availableParallelism());
    assert.equal(new ProcessWorker({ storage }).concurrency, availableParallelism());
    assert.equal(new ThreadWorker({ storage, concurrency: 3 }).concurrency, 3);
  });

  const refused: Array<[Partial<WorkerOptions>, RegExp]> = [
    [{ concurrency: 0 }, /worker concurrency: 0 is not allowed; use a whole number from 1/],
    [{ memoryLimitMb: 4 }, /worker memoryLimitMb: 4 is not allowed; use a whole number from 16/],
    [{ recycleAfterTasks: 1.5 }, /worker recycleAfterTasks: 1.5 is not allowed/],
    [{ abortGrace: "soon" }, /worker abortGrace: "soon" is not a duration/],
    [{ blockWarning: -1 }, /worker blockWarning: -1 is not a duration/],
    [{ queues: [] }, /worker queues: \[\] is not allowed/],
    [{ livenessCheck: 10 }, /worker livenessCheck: 10 ms is too short; use 0 \(off\) or 50 ms/],
  ];
  for (const [options, message] of refused) {
    test(`refuses ${JSON.stringify(options)}, naming the option`, () => {
      assert.throws(
        () => new ThreadWorker({ storage: "memory://options", ...options }),
        (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message),
      );
    });
  }
});

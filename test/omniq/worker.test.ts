import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AsyncWorker, OmniQ, TaskFailedError } from "../../src/index.js";
import { multiply, record, sleep } from "../fixtures/tasks.js";
import { EMBEDDED, freshUrl, openTestOmniQ, waitForState } from "../helpers/omniq.js";
import { tempDir } from "../helpers/temp.js";

for (const kind of EMBEDDED) {
  describe(`AsyncWorker on ${kind}`, () => {
    test("reads several queues in priority order", async () => {
      const store = freshUrl(kind);
      const producer = await OmniQ.open({ storage: store.url, worker: false });
      const dir = tempDir();
      const file = join(dir.path, "order.log");
      writeFileSync(file, "");
      try {
        await producer.enqueue(record.with({ queue: "low" }), file, "low", 0);
        await producer.enqueue(record.with({ queue: "high", priority: 1 }), file, "high-1", 0);
        await producer.enqueue(record.with({ queue: "high", priority: 5 }), file, "high-5", 0);

        const worker = new AsyncWorker({
          storage: store.url,
          queues: ["high", "low"],
          concurrency: 1,
        });
        await worker.start();
        await waitForLines(file, 3);
        await worker.stop();

        const labels = readFileSync(file, "utf8")
          .trim()
          .split("\n")
          .map((l) => l.split(" ")[0]);
        assert.deepEqual(labels, ["high-5", "high-1", "low"]);
      } finally {
        await producer.close();
        dir.remove();
        store.remove();
      }
    });

    test("a task name the worker does not know fails with the names it knows; the worker goes on", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const now = Date.now();
        await omniq.storage.enqueue([
          { ...rawTask("ghost", "nobody.defines.this", now), payload: "dv1:[[]]" },
          { ...rawTask("garbled", "test.multiply", now), payload: "not a payload" },
        ]);
        const ghost = await omniq.getResult("ghost", { timeout: "5s" }).catch((e: unknown) => e);
        assert.ok(ghost instanceof TaskFailedError);
        assert.equal(ghost.remote.name, "UnrunnableTaskError");
        assert.match(ghost.remote.message, /no task named "nobody.defines.this"/);
        assert.match(ghost.remote.message, /"test.multiply"/);

        const garbled = await omniq
          .getResult("garbled", { timeout: "5s" })
          .catch((e: unknown) => e);
        assert.ok(garbled instanceof TaskFailedError);
        assert.match(garbled.remote.message, /cannot be decoded/);

        assert.equal(
          await omniq.getResult(await omniq.enqueue(multiply, 3, 3), { timeout: "5s" }),
          9,
        );
      } finally {
        await close();
      }
    });

    test("graceful stop lets running tasks finish", async () => {
      const store = freshUrl(kind);
      const worker = await OmniQ.open({ storage: store.url, stopTimeout: "5s", pollInterval: 20 });
      const observer = await OmniQ.open({ storage: store.url, worker: false });
      try {
        const id = await observer.enqueue(sleep, 200);
        await waitForState(observer, id, "running");
        await worker.close();
        assert.equal((await observer.getTask(id)).state, "completed");
      } finally {
        await worker.close();
        await observer.close();
        store.remove();
      }
    });

    test("graceful stop past its deadline hands the task back for another worker", async () => {
      const store = freshUrl(kind);
      const first = await OmniQ.open({ storage: store.url, stopTimeout: 50, pollInterval: 20 });
      const second = await OmniQ.open({ storage: store.url, worker: false });
      try {
        const id = await first.enqueue(sleep, 400);
        await waitForState(second, id, "running");
        await first.close();

        const handedBack = await second.getTask(id);
        assert.equal(handedBack.state, "pending");
        assert.equal(handedBack.attempts, 0);

        const worker = new AsyncWorker({ storage: store.url, pollInterval: 20 });
        await worker.start();
        assert.equal(await second.getResult(id, { timeout: "5s" }), "slept");
        await worker.stop();
      } finally {
        await first.close();
        await second.close();
        store.remove();
      }
    });
  });
}

async function waitForLines(file: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (readFileSync(file, "utf8").trim().split("\n").filter(Boolean).length < count) {
    if (Date.now() > deadline) assert.fail(`${file} never reached ${count} lines`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function rawTask(id: string, name: string, now: number) {
  return {
    id,
    name,
    queue: "default",
    priority: 0,
    payload: "dv1:[[]]",
    runAt: now,
    createdAt: now,
    maxAttempts: 1,
    timeoutMs: null,
    expiresAt: null,
    resultTtlMs: 60_000,
    backoff: null,
    worker: "async" as const,
    module: null,
  };
}

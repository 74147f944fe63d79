import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OmniQ, type TaskEvent } from "../../src/index.js";
import { multiply } from "../fixtures/tasks.js";
import { EMBEDDED, freshUrl, openTestOmniQ } from "../helpers/omniq.js";

for (const kind of EMBEDDED) {
  describe(`events on ${kind}`, () => {
    test("each transition is recorded and readable per task", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        const id = await omniq.enqueue(multiply, 2, 2);
        await omniq.getResult(id, { timeout: "5s" });
        const events = await omniq.taskEvents(id);
        assert.deepEqual(
          events.map((e) => [e.type, e.attempt]),
          [
            ["enqueued", 0],
            ["executing", 1],
            ["completed", 1],
          ],
        );
        assert.ok(events.every((e) => e.taskId === id && e.name === "test.multiply"));
      } finally {
        await close();
      }
    });

    test("subscribers see the events of another OmniQ on the same store", async () => {
      const store = freshUrl(kind);
      const watcher = await OmniQ.open({ storage: store.url, worker: false, pollInterval: 20 });
      const runner = await OmniQ.open({ storage: store.url, pollInterval: 20 });
      try {
        const seen: TaskEvent[] = [];
        const stop = await watcher.subscribe((event) => seen.push(event));
        const id = await runner.enqueue(multiply, 3, 3);
        await runner.getResult(id, { timeout: "5s" });

        const deadline = Date.now() + 3_000;
        while (!seen.some((e) => e.type === "completed") && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        stop();
        assert.deepEqual(
          seen.map((e) => e.type),
          ["enqueued", "executing", "completed"],
        );
      } finally {
        await runner.close();
        await watcher.close();
        store.remove();
      }
    });
  });
}

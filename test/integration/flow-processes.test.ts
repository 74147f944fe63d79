// Schedules and queue limits with worker processes sharing one store, on
// every backend that can be shared: three workers fire each tick of a
// schedule once, and a concurrency limit holds over all of them.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { OmniQ } from "../../src/index.js";
import { recordId, span } from "../fixtures/tasks.js";
import { killHard, startWorkerProcess } from "../helpers/processes.js";
import { skipUnless } from "../helpers/services.js";
import { mostAtOnce, spansOf } from "../helpers/spans.js";
import { tempDir } from "../helpers/temp.js";
import { PROCESS_BACKENDS } from "./backends.js";

const INTERVAL_MS = 250;

for (const backend of PROCESS_BACKENDS) {
  describe(`schedules and limits with worker processes on ${backend.name}`, async () => {
    const skip = backend.service ? await skipUnless(backend.service) : false;

    test("three worker processes enqueue each tick of a schedule exactly once", {
      skip,
    }, async () => {
      const store = backend.fresh();
      const dir = tempDir();
      const file = join(dir.path, "ticks.log");
      writeFileSync(file, "");
      const producer = await OmniQ.open({ storage: store.url, worker: false, pollInterval: 50 });
      const workers = await Promise.all(
        [1, 2, 3].map(() => startWorkerProcess([store.url, "10s", "4"])),
      );
      try {
        const id = await producer.schedule(
          recordId,
          { interval: INTERVAL_MS, missed: "each" },
          file,
        );
        await new Promise((resolve) => setTimeout(resolve, 12 * INTERVAL_MS));
        await producer.pauseSchedule(id);
        const { lastTaskId } = await producer.getSchedule(id);
        assert.ok(lastTaskId, "the schedule fired");

        // A tick taken just before the pause may be enqueued just after it,
        // and a tick's task may still run: wait until every tick listed has
        // ended and no new one appears, then read what ran.
        const listTicks = async () =>
          (await producer.listTasks({ limit: 1_000 }))
            .map((task) => task.id)
            .filter((taskId) => taskId.startsWith(`${id}@`));
        let tickIds = await listTicks();
        for (;;) {
          await Promise.all(
            tickIds.map((taskId) => producer.getResult(taskId, { timeout: "20s" })),
          );
          const again = await listTicks();
          if (again.length === tickIds.length) break;
          tickIds = again;
        }
        const ran = spansOf(file).map((line) => line.split(" ")[0] as string);
        const ticks = tickIds
          .map((taskId) => Number(taskId.slice(id.length + 1)))
          .sort((a, b) => a - b);
        assert.ok(ticks.length >= 6, `only ${ticks.length} ticks fired`);
        const gaps = ticks.slice(1).map((tick, i) => tick - (ticks[i] as number));
        assert.deepEqual(new Set(gaps), new Set([INTERVAL_MS]), "no tick missed or doubled");

        assert.equal(new Set(ran).size, ran.length, "no tick's task ran twice");
        assert.deepEqual(
          ran.filter((taskId) => !tickIds.includes(taskId)),
          [],
          "only tick tasks ran",
        );
        for (const taskId of tickIds) {
          if ((await producer.getTask(taskId)).state !== "completed") continue;
          assert.ok(ran.includes(taskId), `${taskId} completed without running`);
        }
      } finally {
        await Promise.all(workers.map(killHard));
        await producer.close();
        await store.remove();
        dir.remove();
      }
    });

    test("a concurrency limit of 2 holds across three worker processes that run one task each", {
      skip,
    }, async () => {
      const store = backend.fresh();
      const dir = tempDir();
      const file = join(dir.path, "spans.log");
      writeFileSync(file, "");
      const producer = await OmniQ.open({ storage: store.url, worker: false, pollInterval: 50 });
      const workers = await Promise.all(
        [1, 2, 3].map(() => startWorkerProcess([store.url, "10s", "1"])),
      );
      try {
        await producer.setQueueLimits("default", { concurrency: 2 });
        const ids = await producer.enqueueMany(
          Array.from({ length: 24 }, (_, i) => span.call(file, `s${i}`, 60)),
        );
        for (const id of ids) await producer.getResult(id, { timeout: "60s" });

        const spans = spansOf(file);
        assert.equal(spans.length, 24);
        assert.ok(mostAtOnce(spans) <= 2, `${mostAtOnce(spans)} ran at once`);
        assert.ok(
          new Set(spans.map((line) => line.split(" ")[1])).size >= 2,
          "several processes ran them",
        );
      } finally {
        await Promise.all(workers.map(killHard));
        await producer.close();
        await store.remove();
        dir.remove();
      }
    });
  });
}

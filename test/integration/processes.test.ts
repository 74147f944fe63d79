// Worker processes sharing one store, on every backend that can be shared
// between processes: each task runs exactly once, and a worker killed with
// kill -9 loses nothing.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { OmniQ } from "../../src/index.js";
import { record } from "../fixtures/tasks.js";
import { killHard, startWorkerProcess } from "../helpers/processes.js";
import { skipUnless } from "../helpers/services.js";
import { tempDir } from "../helpers/temp.js";
import { PROCESS_BACKENDS } from "./backends.js";

const TASKS = 3_000;

for (const backend of PROCESS_BACKENDS) {
  describe(`worker processes on ${backend.name}`, async () => {
    const skip = backend.service ? await skipUnless(backend.service) : false;

    test(`two worker processes run ${TASKS} tasks, each exactly once`, { skip }, async () => {
      const store = backend.fresh();
      const dir = tempDir();
      const file = join(dir.path, "runs.log");
      writeFileSync(file, "");
      const producer = await OmniQ.open({ storage: store.url, worker: false, pollInterval: 50 });
      const workers = await Promise.all([
        startWorkerProcess([store.url, "10s", "20"]),
        startWorkerProcess([store.url, "10s", "20"]),
      ]);
      try {
        const calls = Array.from({ length: TASKS }, (_, i) => record.call(file, `t${i}`, 0));
        const ids = await producer.enqueueMany(calls);
        await Promise.all(ids.map((id) => producer.getResult(id, { timeout: "120s" })));

        const lines = readFileSync(file, "utf8").trim().split("\n");
        const runs = new Map<string, number>();
        for (const line of lines)
          runs.set(line.split(" ")[0] ?? "", (runs.get(line.split(" ")[0] ?? "") ?? 0) + 1);
        assert.equal(runs.size, TASKS, "every task ran");
        assert.deepEqual(
          [...runs.values()].filter((n) => n !== 1),
          [],
          "no task ran twice",
        );
        const pids = new Set(lines.map((line) => line.split(" ")[1]));
        assert.equal(pids.size, 2, "both processes took part");
      } finally {
        await Promise.all(workers.map(killHard));
        await producer.close();
        await store.remove();
        dir.remove();
      }
    });

    test("a worker killed with kill -9 mid-task loses nothing", { skip }, async () => {
      const store = backend.fresh();
      const dir = tempDir();
      const file = join(dir.path, "runs.log");
      writeFileSync(file, "");
      const producer = await OmniQ.open({ storage: store.url, worker: false, pollInterval: 50 });
      try {
        const victim = await startWorkerProcess([store.url, "1s"]);
        const id = await producer.enqueue(record, file, "survivor", 1_500);
        await waitForLines(file, 1);
        await killHard(victim);

        const rescuer = await startWorkerProcess([store.url, "1s"]);
        try {
          assert.equal(await producer.getResult(id, { timeout: "20s" }), "survivor");
        } finally {
          await killHard(rescuer);
        }
        assert.equal(readFileSync(file, "utf8").trim().split("\n").length, 2);
        assert.equal((await producer.getTask(id)).leaseLosses, 1);
      } finally {
        await producer.close();
        await store.remove();
        dir.remove();
      }
    });
  });
}

async function waitForLines(file: string, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (readFileSync(file, "utf8").trim().split("\n").filter(Boolean).length < count) {
    if (Date.now() > deadline) assert.fail(`${file} never reached ${count} lines`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Nothing is lost when a worker whose results and events live apart from
// the queue is killed (SIGKILL, as `kill -9`) between writing a result and
// recording the completion in the queue: the task runs again, its result is
// found, and every event, the dead worker's too, reaches the event store.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { OmniQ } from "../../src/index.js";
import { openResultStore } from "../../src/storage/open-stores.js";
import { multiply } from "../fixtures/tasks.js";
import { type Backend, freshPlace, skipUnlessServed } from "../helpers/places.js";

const CHILD = fileURLToPath(new URL("../fixtures/split-crash-child.ts", import.meta.url));

/** Queue, results, events: a server for each side, and a file the processes share. */
const COMBINATIONS: [Backend, Backend, Backend][] = [
  ["redis", "postgres", "sqlite"],
  ["postgres", "nats", "file"],
];

/** Runs the child until it dies; answers the signal that ended it. */
function runChild(urls: string[]): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...urls], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
}

for (const combination of COMBINATIONS) {
  describe(`kill -9 between the result and the queue: ${combination.join(" + ")}`, async () => {
    let skip: string | false = false;
    for (const backend of combination) skip ||= await skipUnlessServed(backend);

    test("the result is found and every event is kept", { skip, timeout: 60_000 }, async () => {
      const places = combination.map((backend) => freshPlace(backend, "crash"));
      const urls = places.map((place) => place.url);
      const config = { storage: urls[0], results: urls[1], events: urls[2], pollInterval: 20 };
      const producer = await OmniQ.open({ ...config, worker: false });
      const store = await openResultStore(urls[1] as string);
      try {
        const id = await producer.enqueue(multiply, 6, 7);
        assert.equal(await runChild(urls), "SIGKILL");

        // The dead worker's result is stored under its token, but the queue still has it running.
        const held = await producer.getTask(id);
        assert.equal(held.state, "running");
        assert.notEqual(await store.get(id, held.token), null);

        // A worker elsewhere sees the lease run out, runs the task again and completes it.
        const worker = await OmniQ.open({ ...config, lease: "1s" });
        try {
          assert.equal(await producer.getResult(id, { timeout: "20s" }), 42);
        } finally {
          await worker.close();
        }

        const done = await producer.getTask(id);
        assert.equal(done.attempts, 2);
        assert.equal(done.token, held.token + 1);
        assert.deepEqual(
          (await producer.taskEvents(id)).map((e) => [e.type, e.attempt]),
          [
            ["enqueued", 0],
            ["executing", 1],
            ["retry", 1],
            ["executing", 2],
            ["completed", 2],
          ],
        );
      } finally {
        await store.close();
        await producer.close();
        for (const place of places) await place.cleanup();
      }
    });
  });
}

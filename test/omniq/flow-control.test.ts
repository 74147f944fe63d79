// Pausing queues and limiting them, through the facade.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InvalidArgumentError, ManualClock, OmniQ } from "../../src/index.js";
import { echo, span } from "../fixtures/tasks.js";
import { EMBEDDED, freshUrl, openTestOmniQ, waitUntil } from "../helpers/omniq.js";
import { mostAtOnce, spansOf } from "../helpers/spans.js";
import { tempDir } from "../helpers/temp.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const kind of EMBEDDED) {
  describe(`queue controls on ${kind}`, () => {
    test("a paused queue starts nothing until it is resumed", async () => {
      const { omniq, close } = await openTestOmniQ(kind);
      try {
        await omniq.pauseQueue("default");
        const id = await omniq.enqueue(echo, "held");
        await pause(300);
        assert.equal((await omniq.getTask(id)).state, "pending");
        assert.deepEqual(await omniq.queueControls(), {
          default: { paused: true, concurrency: null, rateLimit: null },
        });

        await omniq.resumeQueue("default");

        assert.equal(await omniq.getResult(id, { timeout: "5s" }), "held");
        assert.deepEqual(await omniq.queueControls(), {});
      } finally {
        await close();
      }
    });

    test("a concurrency limit holds over two OmniQ workers", async () => {
      const dir = tempDir();
      const store = freshUrl(kind);
      const file = join(dir.path, "spans.log");
      const open = () =>
        OmniQ.open({ storage: store.url, pollInterval: 10, worker: { concurrency: 6 } });
      const [one, two] = [await open(), await open()];
      try {
        await one.setQueueLimits("default", { concurrency: 2 });
        const ids = await one.enqueueMany(
          Array.from({ length: 12 }, (_, i) => span.call(file, `s${i}`, 40)),
        );
        for (const id of ids) await one.getResult(id, { timeout: "20s" });

        assert.equal(mostAtOnce(spansOf(file)), 2);
      } finally {
        await Promise.all([one.close(), two.close()]);
        store.remove();
        dir.remove();
      }
    });

    test("a rate limit lets max tasks start per window", async () => {
      const clock = new ManualClock(Math.ceil(Date.now() / 60_000) * 60_000);
      const store = freshUrl(kind);
      const omniq = await OmniQ.open({ storage: store.url, pollInterval: 10 }, { clock });
      try {
        await omniq.setQueueLimits("default", { rateLimit: { max: 3, interval: "1m" } });
        const ids = await omniq.enqueueMany(Array.from({ length: 7 }, (_, i) => echo.call(i)));
        const done = async () => (await omniq.countTasks()).default?.completed ?? 0;

        await waitUntil(async () => (await done()) === 3);
        await pause(200);
        assert.equal(await done(), 3, "no more within the window");

        clock.advance(60_000);
        await waitUntil(async () => (await done()) === 6);
        clock.advance(60_000);
        assert.equal(await omniq.getResult(ids[6] as string, { timeout: "5s" }), 6);
      } finally {
        await omniq.close();
        store.remove();
      }
    });

    test("limits are checked and a wrong one changes nothing", async () => {
      const { omniq, close } = await openTestOmniQ(kind, { worker: false });
      try {
        await assert.rejects(omniq.setQueueLimits("q", { concurrency: 0 }), (error) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.match(error.message, /concurrency: 0 is not allowed; use a whole number from 1/);
          return true;
        });
        await assert.rejects(
          omniq.setQueueLimits("q", { rateLimit: { max: 5, interval: "soon" } }),
          /rateLimit.interval/,
        );
        assert.deepEqual(await omniq.queueControls(), {});
      } finally {
        await close();
      }
    });
  });
}

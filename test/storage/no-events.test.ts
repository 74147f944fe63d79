// recordEvents: false on every backend: every kind of change still works,
// and not one event is stored, while a handle that records events on the
// same place still does.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Storage } from "../../src/storage/contract.js";
import { openStorage } from "../../src/storage/open.js";
import { ManualClock } from "../../src/util/clock.js";
import {
  claimRequest,
  completed,
  errorInfo,
  failed,
  newTask,
  START,
} from "../contract/builders.js";
import { BACKENDS, freshPlace, skipUnlessServed } from "../helpers/places.js";

const MAINTAIN = { maxLeaseLosses: 3, eventTtlMs: 3_600_000 };

/** Runs one task through each kind of change; answers the ids it used. */
async function everyChange(storage: Storage, clock: ManualClock, label: string): Promise<string[]> {
  const done = newTask({ id: `${label}-done` });
  const retried = newTask({ id: `${label}-retried` });
  const cancelled = newTask({ id: `${label}-cancelled`, runAt: START + 60_000 });
  const expiring = newTask({
    id: `${label}-expiring`,
    runAt: START + 60_000,
    expiresAt: START + 1_000,
  });
  const lost = newTask({ id: `${label}-lost`, queue: "lost" });
  await storage.enqueue([done, retried, cancelled, expiring, lost]);

  const claimed = await storage.claim(claimRequest({ limit: 2 }));
  assert.deepEqual(claimed.map((t) => t.id).sort(), [done.id, retried.id].sort());
  const [first, second] = claimed.sort((a, b) => a.id.localeCompare(b.id));
  assert.ok(first && second);
  await storage.heartbeat([first, second], 30_000);
  const applied = await storage.settle([
    completed(first.id === done.id ? first : second, '"fine"'),
    failed(first.id === retried.id ? first : second, START + 10, errorInfo()),
  ]);
  assert.deepEqual(applied, [true, true]);

  assert.equal(await storage.cancel(cancelled.id, "no longer wanted"), "cancelled");
  const [held] = await storage.claim(claimRequest({ queues: ["lost"] }));
  assert.ok(held);
  clock.advance(31_000);
  const report = await storage.maintain(MAINTAIN);
  assert.equal(report.leasesExpired, 1);
  assert.equal(report.tasksExpired, 1);

  const [again] = await storage.claim(claimRequest({ queues: ["lost"] }));
  assert.ok(again);
  await storage.release([again]);
  return [done.id, retried.id, cancelled.id, expiring.id, lost.id];
}

for (const backend of BACKENDS) {
  describe(`recordEvents: false on ${backend}`, async () => {
    const skip = await skipUnlessServed(backend);

    test("tasks move as ever, and no event is stored", { skip }, async () => {
      const place = freshPlace(backend, "quiet");
      const clock = new ManualClock(START);
      const storage = await openStorage(place.url, { clock, recordEvents: false });
      try {
        const ids = await everyChange(storage, clock, "quiet");

        assert.deepEqual(await storage.getOutcome(ids[0] as string), {
          state: "completed",
          result: '"fine"',
        });
        assert.equal((await storage.getTask(ids[1] as string))?.state, "retrying");
        assert.equal((await storage.getTask(ids[2] as string))?.state, "cancelled");
        assert.equal((await storage.getTask(ids[3] as string))?.state, "expired");
        assert.equal((await storage.getTask(ids[4] as string))?.state, "pending");

        for (const id of ids) assert.deepEqual(await storage.taskEvents(id), [], id);
        assert.deepEqual(await storage.eventsSince(0, 100), []);
        assert.equal(await storage.lastEventSeq(), 0);
      } finally {
        await storage.close();
        await place.cleanup();
      }
    });

    test("a handle that records events on the same place still does", { skip }, async () => {
      const place = freshPlace(backend, "quiet");
      const clock = new ManualClock(START);
      const quiet = await openStorage(place.url, { clock, recordEvents: false });
      const loud = await openStorage(place.url, { clock });
      try {
        await quiet.enqueue([newTask({ id: "from-quiet" })]);
        await loud.enqueue([newTask({ id: "from-loud" })]);
        assert.deepEqual(
          (await loud.taskEvents("from-loud")).map((e) => e.type),
          ["enqueued"],
        );
        assert.deepEqual(await loud.taskEvents("from-quiet"), []);
      } finally {
        await quiet.close();
        await loud.close();
        await place.cleanup();
      }
    });
  });
}

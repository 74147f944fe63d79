// SplitStorage on real backends with a manual clock: time-to-live in the
// side stores, the queue's log trimmed once copied (and kept while the
// event store is away), fencing of results, results kept by the queue from
// before the move, and the relay stepping over a hole in the queue's seqs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import pg from "pg";
import type { Storage } from "../../src/storage/contract.js";
import { openStorage } from "../../src/storage/open.js";
import { openEventStore, openResultStore } from "../../src/storage/open-stores.js";
import { QUEUE_EVENT_KEEP_MS, SplitStorage } from "../../src/storage/split/split-storage.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, newTask, START } from "../contract/builders.js";
import { type Backend, freshPlace, type Place, skipUnlessServed } from "../helpers/places.js";
import { POSTGRES_URL } from "../helpers/services.js";

const HOUR = 3_600_000;
const MAINTAIN = { maxLeaseLosses: 3, eventTtlMs: HOUR };

interface Env {
  clock: ManualClock;
  split: Storage;
  /** The queue alone, as a process without the split would see it. */
  queue: Storage;
  places: Place[];
}

async function withSplit(
  [queue, results, events]: readonly Backend[],
  body: (env: Env) => Promise<void>,
): Promise<void> {
  const places = [queue, results, events].map((b) => freshPlace(b as Backend, "split"));
  const [q, r, e] = places.map((p) => p.url) as [string, string, string];
  const clock = new ManualClock(START);
  const split = await openStorage(q, { clock, results: r, events: e });
  const alone = await openStorage(q, { clock });
  try {
    await body({ clock, split, queue: alone, places });
  } finally {
    await split.close();
    await alone.close();
    for (const place of places) await place.cleanup();
  }
}

async function skipFor(backends: readonly Backend[]): Promise<string | false> {
  for (const backend of backends) {
    const message = await skipUnlessServed(backend);
    if (message) return message;
  }
  return false;
}

/** Enqueues, claims and completes one task through `storage`; answers its id and token. */
async function runOne(storage: Storage, result = '"done"', resultTtlMs = 60_000) {
  const task = newTask({ resultTtlMs });
  await storage.enqueue([task]);
  const [claimed] = await storage.claim(claimRequest());
  assert.ok(claimed);
  assert.deepEqual(await storage.settle([completed(claimed, result)]), [true]);
  return { id: task.id, token: claimed.token };
}

const COMBINATIONS: Backend[][] = [
  ["memory", "sqlite", "file"],
  ["postgres", "redis", "nats"],
];

for (const combination of COMBINATIONS) {
  describe(`split storage: ${combination.join(" + ")}`, async () => {
    const skip = await skipFor(combination);

    test("results and events past their time-to-live leave their stores", { skip }, () =>
      withSplit(combination, async ({ clock, split, places }) => {
        const results = await openResultStore(places[1]?.url as string);
        const events = await openEventStore(places[2]?.url as string);
        try {
          const { id, token } = await runOne(split, '"kept"', 60_000);
          assert.equal(await results.get(id, token), '"kept"');

          clock.advance(60_001);
          const report = await split.maintain(MAINTAIN);
          assert.equal(report.resultsDeleted, 1);
          assert.equal(await results.get(id, token), null);
          assert.equal(await split.getOutcome(id), null);
          assert.equal((await events.eventsSince(0, 10)).length, 3, "events outlive the result");

          clock.advance(HOUR);
          assert.equal((await split.maintain(MAINTAIN)).eventsDeleted, 3);
          assert.deepEqual(await events.eventsSince(0, 10), []);
        } finally {
          await results.close();
          await events.close();
        }
      }),
    );

    test("the queue drops copied events soon after, the event store keeps them", { skip }, () =>
      withSplit(combination, async ({ clock, split, queue }) => {
        const { id } = await runOne(split);
        assert.equal((await queue.taskEvents(id)).length, 3);

        clock.advance(QUEUE_EVENT_KEEP_MS + 1);
        await split.maintain(MAINTAIN);
        assert.deepEqual(await queue.eventsSince(0, 10), []);
        assert.deepEqual(
          (await split.taskEvents(id)).map((e) => e.type),
          ["enqueued", "executing", "completed"],
        );
      }),
    );

    test(
      "while the event store is away, the queue keeps its events for their whole time-to-live",
      {
        skip,
      },
      () =>
        withSplit(combination, async ({ clock, queue, places }) => {
          const away = await openEventStore(places[2]?.url as string);
          await away.close();
          const split = new SplitStorage({
            queue,
            results: null,
            events: away,
            clock,
            ownsQueue: false,
            onError: () => {},
          });

          const task = newTask();
          await split.enqueue([task]);
          await split.claim(claimRequest({ leaseMs: 1_000 }));
          clock.advance(QUEUE_EVENT_KEEP_MS + 1);
          await assert.rejects(split.maintain(MAINTAIN), /closed/);

          // The queue's own housekeeping ran all the same: the lease ran out.
          assert.equal((await queue.getTask(task.id))?.state, "pending");
          assert.deepEqual(
            (await queue.taskEvents(task.id)).map((e) => e.type),
            ["enqueued", "executing", "retry"],
          );
        }),
    );

    test(
      "an attempt whose lease ran out cannot hide the result of the one that completed",
      {
        skip,
      },
      () =>
        withSplit(combination, async ({ clock, split }) => {
          const task = newTask();
          await split.enqueue([task]);
          const [first] = await split.claim(claimRequest({ leaseMs: 1_000 }));
          assert.ok(first);
          clock.advance(1_001);
          await split.maintain(MAINTAIN);
          const [second] = await split.claim(claimRequest());
          assert.ok(second);

          assert.deepEqual(await split.settle([completed(second, '"second"')]), [true]);
          assert.deepEqual(await split.settle([completed(first, '"first"')]), [false]);
          assert.deepEqual(await split.getOutcome(task.id), {
            state: "completed",
            result: '"second"',
          });
        }),
    );

    test("a result the queue kept before results moved still reads", { skip }, () =>
      withSplit(combination, async ({ split, queue }) => {
        const { id } = await runOne(queue, '"from before"');
        assert.equal((await split.getOutcome(id))?.result, '"from before"');
      }),
    );
  });
}

describe("split storage: a hole in the queue's seqs", async () => {
  const skip = await skipFor(["postgres"]);

  test("events after a rolled-back write still reach the event store", { skip }, () =>
    withSplit(["postgres", "memory", "memory"], async ({ split, queue }) => {
      const [a, b, c] = [newTask(), newTask(), newTask()];
      await split.enqueue([a]);
      assert.equal((await split.taskEvents(a.id)).length, 1);
      // An application's transaction that rolls back leaves the seqs it drew unused.
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query("BEGIN");
        await split.enqueueWithin?.(client, [b]);
        await client.query("ROLLBACK");
      } finally {
        await client.end();
      }
      await split.enqueue([c]);

      const seqs = (await queue.eventsSince(0, 10)).map((e) => e.seq);
      assert.equal(seqs.length, 2);
      assert.ok((seqs[1] as number) > (seqs[0] as number) + 1, `a hole between ${seqs}`);

      const deadline = Date.now() + 5_000;
      while ((await split.taskEvents(c.id)).length === 0) {
        assert.ok(Date.now() < deadline, "the event after the hole never arrived");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }),
  );
});

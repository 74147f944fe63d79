// Idempotency keys, queue controls and schedule versions hold across
// processes on one SQLite file: several processes racing at once never get
// past a key, a concurrency limit, a rate limit or a version that one
// process alone could not.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { newTasks } from "../contract/builders.js";
import { tempDir } from "../helpers/temp.js";
import { type ClaimStep, claimedIds, killRacers, race, type Step } from "./fixtures/flow-race.js";

const RACERS = 4;

const dir = tempDir("omniq-sqlite-flow-");
after(() => {
  killRacers();
  dir.remove();
});

/** The steps of `RACERS` racers, each made by `step` from its number. */
function racers<S extends Step>(step: (i: number) => S): S[] {
  return Array.from({ length: RACERS }, (_, i) => step(i));
}

/** Claims one task at a time for 300 ms, never settling. */
function claimFor300ms(queue: string): ClaimStep {
  // The pause lets the other processes take the write lock between claims.
  return { step: "claim", queue, limit: 1, leaseMs: 600_000, until: { ms: 300 }, pauseMs: 1 };
}

/** Rate windows start at multiples of the interval: one this long does not turn during a test. */
const LONG_WINDOW = 10 * 365 * 24 * 3_600_000;

describe("sqlite: flow control across processes", { timeout: 120_000 }, () => {
  test("processes enqueueing one key at once store one task", async () => {
    const url = `sqlite://${join(dir.path, "keys.db")}`;
    const answers = await race(
      url,
      racers((i) => ({
        step: "enqueue",
        queue: "keys",
        tasks: [{ id: `keyed-${i}`, key: "once" }],
        atOnce: 1,
      })),
    );

    const storage = await openSqliteStorage(url);
    const stored = await storage.listTasks({ queue: "keys" });
    assert.equal(stored.length, 1);
    assert.deepEqual(answers, Array(RACERS).fill([stored[0]?.id]));
    await storage.close();
  });

  test("a concurrency limit holds over processes claiming at once", async () => {
    const url = `sqlite://${join(dir.path, "concurrency.db")}`;
    const storage = await openSqliteStorage(url);
    await storage.enqueue(newTasks(20, "limited", { queue: "limited", runAt: 0, createdAt: 0 }));
    await storage.setQueueControl("limited", { paused: false, concurrency: 3, rateLimit: null });

    const answers = await race(
      url,
      racers(() => claimFor300ms("limited")),
    );
    assert.equal(claimedIds(answers).length, 3);
    assert.deepEqual(await storage.countTasks(), { limited: { running: 3, pending: 17 } });
    await storage.close();
  });

  test("a rate limit holds over processes claiming at once", async () => {
    const url = `sqlite://${join(dir.path, "rate.db")}`;
    const storage = await openSqliteStorage(url);
    await storage.enqueue(newTasks(20, "rated", { queue: "rated", runAt: 0, createdAt: 0 }));
    const rateLimit = { max: 5, intervalMs: LONG_WINDOW };
    await storage.setQueueControl("rated", { paused: false, concurrency: null, rateLimit });

    const answers = await race(
      url,
      racers(() => claimFor300ms("rated")),
    );
    assert.equal(claimedIds(answers).length, 5);
    assert.deepEqual(await storage.countTasks(), { rated: { running: 5, pending: 15 } });
    await storage.close();
  });

  test("of processes writing a schedule at one version, exactly one wins", async () => {
    const url = `sqlite://${join(dir.path, "schedules.db")}`;
    const storage = await openSqliteStorage(url);
    assert.equal(await storage.putSchedule("race", "first", null), 1);

    const versions = await race(
      url,
      racers((i) => ({ step: "schedule", id: "race", data: `writer-${i}`, version: 1 })),
    );
    const winners = versions.flatMap((version, i) => (version === 2 ? [i] : []));
    assert.equal(winners.length, 1);
    assert.deepEqual(
      versions.filter((version) => version !== 2),
      Array(RACERS - 1).fill(null),
    );
    assert.deepEqual(await storage.getSchedule("race"), {
      id: "race",
      version: 2,
      data: `writer-${winners[0]}`,
    });
    await storage.close();
  });
});

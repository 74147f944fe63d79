// The scheduler's steps one by one, on the memory backend with a manual
// clock: taking ticks, taking over from a scheduler that died half-way,
// and never storing a tick twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../../src/config/logger.js";
import {
  decodeSchedule,
  encodeSchedule,
  type ScheduleRecord,
  tickTaskId,
} from "../../src/schedule/record.js";
import { Scheduler } from "../../src/schedule/scheduler.js";
import { dueTicks } from "../../src/schedule/ticks.js";
import { MemoryStorage } from "../../src/storage/memory/index.js";
import { ManualClock } from "../../src/util/clock.js";

const T0 = Date.UTC(2031, 0, 1);
const SECOND = 1_000;

function record(fields: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id: "s",
    trigger: { type: "interval", everyMs: SECOND, startAt: T0 + SECOND },
    missed: "each",
    paused: false,
    template: {
      name: "test.echo",
      queue: "default",
      priority: 0,
      payload: "[]",
      maxAttempts: 1,
      timeoutMs: null,
      resultTtlMs: 60_000,
      backoff: null,
      worker: "async",
      module: null,
      ttlMs: null,
    },
    nextRunAt: T0 + SECOND,
    lastRunAt: null,
    lastTaskId: null,
    pending: null,
    createdAt: T0,
    ...fields,
  };
}

function setUp() {
  const clock = new ManualClock(T0);
  const storage = new MemoryStorage({ clock });
  const log = createLogger({ logLevel: "silent" });
  const scheduler = new Scheduler(storage, { now: () => clock.now(), staleMs: 30 * SECOND, log });
  return { clock, storage, scheduler };
}

test("a due schedule's ticks are enqueued and the record advanced", async () => {
  const { clock, storage, scheduler } = setUp();
  await storage.putSchedule("s", encodeSchedule(record()), null);
  clock.advance(3 * SECOND);

  const { enqueued, nextDueAt } = await scheduler.fireDue();

  assert.equal(enqueued, 3);
  assert.equal(nextDueAt, T0 + 4 * SECOND);
  const stored = decodeSchedule((await storage.getSchedule("s"))?.data ?? "");
  assert.equal(stored.pending, null);
  assert.equal(stored.lastTaskId, tickTaskId("s", T0 + 3 * SECOND));
  assert.equal((await storage.getTask(tickTaskId("s", T0 + 2 * SECOND)))?.runAt, T0 + 2 * SECOND);
  assert.equal((await scheduler.fireDue()).enqueued, 0, "a second look finds nothing due");
});

test("ticks taken by a scheduler that died are finished by another after staleMs", async () => {
  const { clock, storage, scheduler } = setUp();
  // A scheduler took two ticks and died after storing the first one's task.
  const taken = record({
    nextRunAt: T0 + 3 * SECOND,
    pending: { ticks: [T0 + SECOND, T0 + 2 * SECOND], since: T0 + 2 * SECOND },
  });
  await storage.putSchedule("s", encodeSchedule(taken), null);
  await storage.enqueue([
    {
      ...taken.template,
      id: tickTaskId("s", T0 + SECOND),
      runAt: T0 + SECOND,
      createdAt: T0,
      expiresAt: null,
    },
  ]);
  clock.set(T0 + 2 * SECOND + 10 * SECOND);

  assert.equal((await scheduler.fireDue()).enqueued, 0, "too soon: the first one may be alive");

  clock.set(T0 + 2 * SECOND + 30 * SECOND);
  assert.equal((await scheduler.fireDue()).enqueued, 1, "only the tick whose task was missing");
  const ids = (await storage.listTasks()).map((task) => task.id);
  assert.deepEqual(ids, [tickTaskId("s", T0 + SECOND), tickTaskId("s", T0 + 2 * SECOND)]);
  const stored = decodeSchedule((await storage.getSchedule("s"))?.data ?? "");
  assert.equal(stored.pending, null);
  assert.equal(stored.lastRunAt, T0 + 2 * SECOND);
});

test("two schedulers at once: one takes the ticks, the other finds them taken", async () => {
  const { clock, storage, scheduler } = setUp();
  const log = createLogger({ logLevel: "silent" });
  const other = new Scheduler(storage, { now: () => clock.now(), staleMs: 30 * SECOND, log });
  await storage.putSchedule("s", encodeSchedule(record()), null);
  clock.advance(5 * SECOND);

  const [one, two] = await Promise.all([scheduler.fireDue(), other.fireDue()]);

  assert.equal(one.enqueued + two.enqueued, 5);
  assert.equal((await storage.listTasks()).length, 5);
});

test("the each policy fires a long backlog over several rounds, at most 1000 per round", () => {
  const backlog = record({ nextRunAt: T0 + SECOND });
  const { ticks, next } = dueTicks(backlog, T0 + 2_500 * SECOND);
  assert.equal(ticks.length, 1_000);
  assert.equal(next, T0 + 1_001 * SECOND);
});

// Schedules through the facade: ticks, missed-tick policies, pause and
// resume with their events, and one task per tick with several OmniQs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidArgumentError, ManualClock, OmniQ, UnknownScheduleError } from "../../src/index.js";
import { nextFiring } from "../../src/schedule/trigger.js";
import { echo } from "../fixtures/tasks.js";
import { EMBEDDED, freshUrl, waitUntil } from "../helpers/omniq.js";

const MINUTE = 60_000;
/** A round minute, so that interval ticks fall on round times. */
const T0 = Date.UTC(2031, 4, 1, 12, 0, 0);

async function openOn(url: string, clock: ManualClock, worker = true) {
  return OmniQ.open({ storage: url, pollInterval: 10, worker: worker ? {} : false }, { clock });
}

/** The ids of the tasks a schedule enqueued, in tick order. */
async function ticksOf(omniq: OmniQ, scheduleId: string): Promise<string[]> {
  const tasks = await omniq.listTasks({ limit: 1_000 });
  return tasks
    .map((task) => task.id)
    .filter((id) => id.startsWith(`${scheduleId}@`))
    .sort();
}

describe("cron triggers", () => {
  test("a cron with seconds fires on its seconds", () => {
    const trigger = { type: "cron" as const, expression: "*/15 * * * * *", timezone: null };
    assert.equal(nextFiring(trigger, T0), T0 + 15_000);
    assert.equal(nextFiring(trigger, T0 + 15_000), T0 + 30_000);
  });

  test("a cron in a time zone fires at that zone's wall-clock time", () => {
    const trigger = { type: "cron" as const, expression: "0 30 9 * * *", timezone: "Asia/Tokyo" };
    // 09:30 in Tokyo (UTC+9) is 00:30 UTC.
    assert.equal(nextFiring(trigger, T0), Date.UTC(2031, 4, 2, 0, 30, 0));
  });
});

for (const kind of EMBEDDED) {
  describe(`schedules on ${kind}`, () => {
    test("an interval schedule enqueues one task per tick; its latest result is readable", async () => {
      const clock = new ManualClock(T0);
      const store = freshUrl(kind);
      const omniq = await openOn(store.url, clock);
      try {
        const id = await omniq.schedule(
          echo.with({ queue: "default" }),
          { interval: "1m", missed: "each" },
          "tick",
        );
        assert.equal((await omniq.getSchedule(id)).nextRunAt.getTime(), T0 + MINUTE);

        clock.advance(3 * MINUTE);
        await waitUntil(async () => (await ticksOf(omniq, id)).length === 3);

        assert.deepEqual(
          await ticksOf(omniq, id),
          [1, 2, 3].map((n) => `${id}@${T0 + n * MINUTE}`),
        );
        assert.equal(await omniq.getScheduleResult(id, { timeout: "5s" }), "tick");
        const [info] = await omniq.listSchedules();
        assert.equal(info?.lastTaskId, `${id}@${T0 + 3 * MINUTE}`);
        assert.equal(info?.nextRunAt.getTime(), T0 + 4 * MINUTE);
      } finally {
        await omniq.close();
        store.remove();
      }
    });

    test("missed ticks: once runs one for all of them, skip runs none", async () => {
      const clock = new ManualClock(T0);
      const store = freshUrl(kind);
      const producer = await openOn(store.url, clock, false);
      const once = await producer.schedule(echo, { id: "once", interval: "1m", missed: "once" }, 1);
      const skip = await producer.schedule(echo, { id: "skip", interval: "1m", missed: "skip" }, 2);
      // No worker ran for ten minutes.
      clock.advance(10 * MINUTE + 30_000);
      const omniq = await openOn(store.url, clock);
      try {
        await waitUntil(async () => (await ticksOf(omniq, once)).length === 1);
        await waitUntil(
          async () => (await omniq.getSchedule(skip)).nextRunAt.getTime() > clock.now(),
        );

        assert.deepEqual(await ticksOf(omniq, once), [`once@${T0 + 10 * MINUTE}`]);
        assert.deepEqual(await ticksOf(omniq, skip), []);
        assert.equal((await omniq.getSchedule(once)).nextRunAt.getTime(), T0 + 11 * MINUTE);
      } finally {
        await omniq.close();
        await producer.close();
        store.remove();
      }
    });

    test("a paused schedule fires nothing; resumed, it goes on from the next tick", async () => {
      const clock = new ManualClock(T0);
      const store = freshUrl(kind);
      const omniq = await openOn(store.url, clock);
      try {
        const id = await omniq.schedule(echo, { interval: "1m", missed: "each" }, "x");
        await omniq.pauseSchedule(id);
        clock.advance(5 * MINUTE + 30_000);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(await ticksOf(omniq, id), []);
        assert.equal((await omniq.getSchedule(id)).paused, true);

        await omniq.resumeSchedule(id);
        assert.equal((await omniq.getSchedule(id)).nextRunAt.getTime(), T0 + 6 * MINUTE);
        clock.advance(MINUTE);
        await waitUntil(async () => (await ticksOf(omniq, id)).length === 1);

        await omniq.deleteSchedule(id);
        assert.deepEqual(await omniq.listSchedules(), []);
        const events = (await omniq.taskEvents(id)).map((event) => event.type);
        assert.deepEqual(events, [
          "schedule-created",
          "schedule-paused",
          "schedule-resumed",
          "schedule-deleted",
        ]);
        await assert.rejects(omniq.pauseSchedule(id), UnknownScheduleError);
      } finally {
        await omniq.close();
        store.remove();
      }
    });

    test("three OmniQs on one store enqueue each tick once", async () => {
      const clock = new ManualClock(T0);
      const store = freshUrl(kind);
      const instances = [
        await openOn(store.url, clock),
        await openOn(store.url, clock),
        await openOn(store.url, clock),
      ];
      const [first] = instances as [OmniQ];
      try {
        const id = await first.schedule(echo, { cron: "*/10 * * * * *", missed: "each" }, "c");
        for (let step = 0; step < 12; step++) {
          clock.advance(5_000);
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        await waitUntil(async () => (await ticksOf(first, id)).length === 6);

        const expected = [1, 2, 3, 4, 5, 6].map((n) => `${id}@${T0 + n * 10_000}`);
        assert.deepEqual(await ticksOf(first, id), expected);
      } finally {
        await Promise.all(instances.map((omniq) => omniq.close()));
        store.remove();
      }
    });

    test("a bad schedule is refused with what is allowed, storing nothing", async () => {
      const clock = new ManualClock(T0);
      const store = freshUrl(kind);
      const omniq = await openOn(store.url, clock, false);
      try {
        await assert.rejects(omniq.schedule(echo, { cron: "every day" }, 1), (error) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.match(error.message, /schedule cron: "every day" is not a cron expression/);
          return true;
        });
        await assert.rejects(
          omniq.schedule(echo, { cron: "0 * * * *", timezone: "Mars/Olympus" }, 1),
          /timezone: "Mars\/Olympus" is not a time zone/,
        );
        await assert.rejects(omniq.schedule(echo, { interval: "often" }, 1), /schedule interval/);
        assert.deepEqual(await omniq.listSchedules(), []);
      } finally {
        await omniq.close();
        store.remove();
      }
    });
  });
}

import assert from "node:assert/strict";
import type { ScheduleEvent } from "../../src/storage/contract.js";
import { START } from "./builders.js";
import type { Harness } from "./harness.js";

const created: ScheduleEvent = { type: "schedule-created", queue: "q", name: "report" };

export function scheduleTests({ it }: Harness): void {
  it("putSchedule creates at version 1 only when the id is free", async ({ storage }) => {
    assert.equal(await storage.putSchedule("s", "one", null), 1);
    assert.equal(await storage.putSchedule("s", "two", null), null);

    assert.deepEqual(await storage.getSchedule("s"), { id: "s", version: 1, data: "one" });
    assert.equal(await storage.getSchedule("other"), null);
  });

  it("putSchedule replaces only at the expected version", async ({ storage }) => {
    await storage.putSchedule("s", "one", null);

    assert.equal(await storage.putSchedule("s", "two", 1), 2);
    assert.equal(await storage.putSchedule("s", "stale", 1), null);
    assert.equal(await storage.putSchedule("missing", "x", 1), null);

    assert.deepEqual(await storage.getSchedule("s"), { id: "s", version: 2, data: "two" });
    assert.equal(await storage.getSchedule("missing"), null);
  });

  it("of writers racing at one version over several handles, exactly one wins", async ({
    storage,
    another,
  }) => {
    const handles = [storage, await another(), await another()];
    await storage.putSchedule("s", "zero", null);

    const tries = handles.flatMap((handle, i) => [
      handle.putSchedule("s", `a${i}`, 1),
      handle.putSchedule("s", `b${i}`, 1),
    ]);
    const answers = await Promise.all(tries);

    assert.deepEqual(
      answers.filter((version) => version !== null),
      [2],
    );
    const winner = answers.indexOf(2);
    const stored = await storage.getSchedule("s");
    assert.equal(stored?.data, `${winner % 2 === 0 ? "a" : "b"}${Math.floor(winner / 2)}`);
  });

  it("concurrent creates of one id: exactly one wins", async ({ storage, another }) => {
    const other = await another();

    const answers = await Promise.all([
      storage.putSchedule("s", "mine", null),
      other.putSchedule("s", "theirs", null),
      storage.putSchedule("s", "again", null),
    ]);

    assert.equal(answers.filter((version) => version === 1).length, 1);
    assert.equal(answers.filter((version) => version === null).length, 2);
  });

  it("listSchedules answers every schedule by id; deleteSchedule removes one", async ({
    storage,
  }) => {
    await storage.putSchedule("b", "2", null);
    await storage.putSchedule("a", "1", null);
    await storage.putSchedule("c", "3", null);

    assert.deepEqual(
      (await storage.listSchedules()).map((s) => [s.id, s.data]),
      [
        ["a", "1"],
        ["b", "2"],
        ["c", "3"],
      ],
    );

    assert.equal(await storage.deleteSchedule("b"), true);
    assert.equal(await storage.deleteSchedule("b"), false);
    assert.deepEqual(
      (await storage.listSchedules()).map((s) => s.id),
      ["a", "c"],
    );
  });

  it("a write's event is stored under the schedule's id", async ({ storage, clock }) => {
    await storage.putSchedule("s", "one", null, created);
    clock.advance(10);
    await storage.putSchedule("s", "two", 1, { ...created, type: "schedule-paused" });
    await storage.putSchedule("s", "three", 1, { ...created, type: "schedule-resumed" });
    clock.advance(10);
    await storage.deleteSchedule("s", { ...created, type: "schedule-deleted" });

    const events = await storage.taskEvents("s");
    assert.deepEqual(
      events.map((e) => [e.type, e.at, e.queue, e.name, e.attempt]),
      [
        ["schedule-created", START, "q", "report", 0],
        ["schedule-paused", START + 10, "q", "report", 0],
        ["schedule-deleted", START + 20, "q", "report", 0],
      ],
    );
    const since = await storage.eventsSince(0, 100);
    assert.ok(since.some((e) => e.type === "schedule-created" && e.taskId === "s"));
  });

  it("another handle sees schedules one handle wrote", async ({ storage, another }) => {
    const other = await another();
    await storage.putSchedule("s", "one", null);

    assert.deepEqual(await other.getSchedule("s"), { id: "s", version: 1, data: "one" });
    assert.equal(await other.putSchedule("s", "two", 1), 2);
    assert.equal((await storage.getSchedule("s"))?.data, "two");
  });
}

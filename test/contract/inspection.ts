import assert from "node:assert/strict";
import { claimRequest, completed, failed, newTask, newTasks, START } from "./builders.js";
import type { Harness } from "./harness.js";

const ids = (tasks: readonly { id: string }[]) => tasks.map((t) => t.id);

export function inspectionTests({ it }: Harness): void {
  it("getTask and getOutcome answer null for an unknown id", async ({ storage }) => {
    assert.equal(await storage.getTask("nobody"), null);
    assert.equal(await storage.getOutcome("nobody"), null);
  });

  it("getOutcome gives only the state while a task waits or runs", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b", runAt: START + 10 })]);
    assert.deepEqual(await storage.getOutcome("a"), { state: "pending" });
    assert.deepEqual(await storage.getOutcome("b"), { state: "scheduled" });

    await storage.claim(claimRequest());
    assert.deepEqual(await storage.getOutcome("a"), { state: "running" });
  });

  it("getOutcome of a retrying task carries its last error", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    await storage.settle([failed(held, START + 100, { name: "Error", message: "again" })]);

    assert.deepEqual(await storage.getOutcome("a"), {
      state: "retrying",
      error: { name: "Error", message: "again" },
    });
  });

  it("listTasks lists in enqueue order, by default up to 100", async ({ storage }) => {
    await storage.enqueue(newTasks(60, "x"));
    await storage.enqueue(newTasks(60, "y", { priority: 5 }));

    const listed = await storage.listTasks();
    assert.equal(listed.length, 100);
    assert.equal(listed[0]?.id, "x-0");
    assert.equal(listed[59]?.id, "x-59");
    assert.equal(listed[60]?.id, "y-0");
    assert.equal(listed[99]?.id, "y-39");
  });

  it("listTasks pages with limit and offset", async ({ storage }) => {
    await storage.enqueue(newTasks(10, "t"));

    assert.deepEqual(ids(await storage.listTasks({ limit: 3 })), ["t-0", "t-1", "t-2"]);
    assert.deepEqual(ids(await storage.listTasks({ limit: 3, offset: 8 })), ["t-8", "t-9"]);
    assert.deepEqual(await storage.listTasks({ offset: 10 }), []);
  });

  it("listTasks filters by queue, state and name, together", async ({ storage }) => {
    await storage.enqueue([
      newTask({ id: "a", queue: "q1", name: "resize" }),
      newTask({ id: "b", queue: "q2", name: "resize" }),
      newTask({ id: "c", queue: "q1", name: "email" }),
      newTask({ id: "d", queue: "q1", name: "resize", runAt: START + 60_000 }),
    ]);
    await storage.claim(claimRequest({ queues: ["q2"] }));

    assert.deepEqual(ids(await storage.listTasks({ queue: "q1" })), ["a", "c", "d"]);
    assert.deepEqual(ids(await storage.listTasks({ state: "running" })), ["b"]);
    assert.deepEqual(ids(await storage.listTasks({ name: "resize" })), ["a", "b", "d"]);
    assert.deepEqual(
      ids(await storage.listTasks({ queue: "q1", state: "pending", name: "resize" })),
      ["a"],
    );
    assert.deepEqual(ids(await storage.listTasks({ state: "scheduled", limit: 1 })), ["d"]);
  });

  it("countTasks counts per queue and state, omitting empty states", async ({ storage }) => {
    assert.deepEqual(await storage.countTasks(), {});

    await storage.enqueue([
      newTask({ id: "a", queue: "q1" }),
      newTask({ id: "b", queue: "q1" }),
      newTask({ id: "c", queue: "q1", runAt: START + 1 }),
      newTask({ id: "d", queue: "q2" }),
    ]);
    const [held] = await storage.claim(claimRequest({ queues: ["q1"], limit: 1 }));
    assert.ok(held);
    await storage.settle([completed(held)]);

    assert.deepEqual(await storage.countTasks(), {
      q1: { completed: 1, pending: 1, scheduled: 1 },
      q2: { pending: 1 },
    });
  });

  it("taskEvents lists one task's events oldest first", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    clock.advance(10);
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.equal(held?.id, "a");
    clock.advance(10);
    await storage.settle([completed(held)]);

    const events = await storage.taskEvents("a");
    assert.deepEqual(
      events.map((e) => [e.taskId, e.type, e.attempt, e.at]),
      [
        ["a", "enqueued", 0, START],
        ["a", "executing", 1, START + 10],
        ["a", "completed", 1, START + 20],
      ],
    );
    assert.deepEqual(
      (await storage.taskEvents("b")).map((e) => e.type),
      ["enqueued"],
    );
    assert.deepEqual(await storage.taskEvents("nobody"), []);
  });

  it("events carry a seq that increases with each event stored", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    await storage.enqueue([newTask({ id: "b" })]);
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.ok(held);
    await storage.settle([completed(held)]);

    const all = await storage.eventsSince(0, 100);
    assert.deepEqual(
      all.map((e) => [e.taskId, e.type]),
      [
        ["a", "enqueued"],
        ["b", "enqueued"],
        ["a", "executing"],
        ["a", "completed"],
      ],
    );
    const seqs = all.map((e) => e.seq);
    assert.ok(
      seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] ?? 0)),
      `increasing: ${seqs}`,
    );
    assert.ok((seqs[0] ?? 0) > 0, "seq starts above 0 so eventsSince(0) reads from the start");
  });

  it("eventsSince reads after a seq, up to a limit", async ({ storage }) => {
    await storage.enqueue(newTasks(5, "t"));
    const all = await storage.eventsSince(0, 100);
    assert.equal(all.length, 5);

    const afterSecond = await storage.eventsSince(all[1]?.seq ?? 0, 2);
    assert.deepEqual(
      afterSecond.map((e) => e.taskId),
      ["t-2", "t-3"],
    );
    assert.deepEqual(await storage.eventsSince(all[4]?.seq ?? 0, 10), []);
  });

  it("lastEventSeq is 0 for an empty log, then the newest event's seq", async ({ storage }) => {
    assert.equal(await storage.lastEventSeq(), 0);

    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    await storage.claim(claimRequest({ limit: 1 }));

    const all = await storage.eventsSince(0, 100);
    assert.equal(all.length, 3);
    assert.equal(await storage.lastEventSeq(), all[2]?.seq);
    assert.deepEqual(await storage.eventsSince(await storage.lastEventSeq(), 100), []);
  });
}

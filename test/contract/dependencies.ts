import assert from "node:assert/strict";
import { claimRequest, newTask, START } from "./builders.js";
import type { Harness } from "./harness.js";

const after = (...on: string[]) => ({ dependencies: { on, pass: "value" as const } });

export function dependencyTests({ it }: Harness): void {
  it("a task with dependencies is stored blocked, kept as given, never claimed", async ({
    storage,
  }) => {
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b", ...after("a") })]);

    const record = await storage.getTask("b");
    assert.equal(record?.state, "blocked");
    assert.deepEqual(record?.dependencies, { on: ["a"], pass: "value" });
    assert.equal((await storage.getTask("a"))?.dependencies, null);
    assert.deepEqual(
      (await storage.taskEvents("b")).map((e) => e.type),
      ["enqueued"],
    );

    const claimed = await storage.claim(claimRequest({ limit: 10 }));
    assert.deepEqual(
      claimed.map((task) => task.id),
      ["a"],
    );
  });

  it("an empty dependency list does not block", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", dependencies: { on: [], pass: "none" } })]);

    assert.equal((await storage.getTask("a"))?.state, "pending");
  });

  it("blocked tasks are counted and listed under their state", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", ...after("x") }), newTask({ id: "b" })]);

    const counts = await storage.countTasks();
    assert.deepEqual(counts.default, { blocked: 1, pending: 1 });
    const listed = await storage.listTasks({ state: "blocked" });
    assert.deepEqual(
      listed.map((task) => task.id),
      ["a"],
    );
  });

  it("unblock makes blocked tasks claimable and skips the rest", async ({ storage }) => {
    await storage.enqueue([
      newTask({ id: "a", ...after("x") }),
      newTask({ id: "b", ...after("x") }),
      newTask({ id: "c" }),
    ]);

    const moved = await storage.unblock(["a", "c", "missing"]);

    assert.deepEqual(moved, ["a"]);
    assert.equal((await storage.getTask("a"))?.state, "pending");
    assert.equal((await storage.getTask("b"))?.state, "blocked");
    const claimed = await storage.claim(claimRequest());
    assert.deepEqual(claimed.map((task) => task.id).sort(), ["a", "c"]);
    assert.deepEqual(claimed.find((task) => task.id === "a")?.dependencies?.on, ["x"]);
  });

  it("an unblocked task whose run-at time is to come is scheduled", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a", runAt: START + 1_000, ...after("x") })]);

    await storage.unblock(["a"]);

    assert.equal((await storage.getTask("a"))?.state, "scheduled");
    assert.deepEqual(await storage.claim(claimRequest()), []);
    clock.advance(1_000);
    assert.equal((await storage.claim(claimRequest())).length, 1);
  });

  it("a blocked task can be cancelled", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", ...after("x") })]);

    assert.equal(await storage.cancel("a", "x failed"), "cancelled");

    const record = await storage.getTask("a");
    assert.equal(record?.state, "cancelled");
    assert.deepEqual(record?.lastError, { name: "TaskCancelledError", message: "x failed" });
    assert.deepEqual(await storage.unblock(["a"]), []);
  });

  it("maintain leaves a blocked task past its time-to-live alone", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a", expiresAt: START + 10, ...after("x") })]);
    clock.advance(100);

    const report = await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 60_000 });

    assert.equal(report.tasksExpired, 0);
    assert.equal((await storage.getTask("a"))?.state, "blocked");
  });

  it("another handle sees blocked tasks and can unblock them", async ({ storage, another }) => {
    const other = await another();
    await storage.enqueue([newTask({ id: "a", ...after("x") })]);

    assert.deepEqual(await other.unblock(["a"]), ["a"]);

    assert.equal((await storage.getTask("a"))?.state, "pending");
  });
}

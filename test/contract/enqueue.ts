import assert from "node:assert/strict";
import { claimRequest, newTask, START } from "./builders.js";
import type { Harness } from "./harness.js";

export function enqueueTests({ it }: Harness): void {
  it("stores a due task as pending with its fields and zeroed counters", async ({ storage }) => {
    const task = newTask({ id: "a", priority: 3, timeoutMs: 5_000, module: "./tasks.js" });
    task.backoff = { type: "exponential", baseMs: 100, maxMs: 1_000, jitter: false };
    await storage.enqueue([task]);

    const record = await storage.getTask("a");
    assert.deepEqual(record, {
      ...task,
      idempotencyKey: null,
      dependencies: null,
      state: "pending",
      attempts: 0,
      leaseLosses: 0,
      token: 0,
      leaseOwner: null,
      leaseExpiresAt: null,
      startedAt: null,
      finishedAt: null,
      cancelRequested: false,
      lastError: null,
    });
  });

  it("stores a task whose run-at time is to come as scheduled", async ({ storage }) => {
    await storage.enqueue([
      newTask({ id: "later", runAt: START + 1 }),
      newTask({ id: "now", runAt: START }),
    ]);

    assert.equal((await storage.getTask("later"))?.state, "scheduled");
    assert.equal((await storage.getTask("now"))?.state, "pending");
  });

  it("stores every task of a batch", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" }), newTask({ id: "c" })]);

    const ids = (await storage.listTasks()).map((t) => t.id);
    assert.deepEqual(ids, ["a", "b", "c"]);
  });

  it("accepts an empty batch", async ({ storage }) => {
    await storage.enqueue([]);

    assert.deepEqual(await storage.listTasks(), []);
  });

  it("rejects a batch with a duplicate id inside it and stores none of it", async ({ storage }) => {
    const batch = [newTask({ id: "a" }), newTask({ id: "b" }), newTask({ id: "a" })];

    await assert.rejects(storage.enqueue(batch));

    assert.deepEqual(await storage.listTasks(), []);
    assert.deepEqual(await storage.eventsSince(0, 100), []);
  });

  it("rejects a batch with an id already stored and stores none of it", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "old", payload: "[1]" })]);

    const batch = [newTask({ id: "new" }), newTask({ id: "old", payload: "[2]" })];
    await assert.rejects(storage.enqueue(batch));

    assert.equal(await storage.getTask("new"), null);
    assert.equal((await storage.getTask("old"))?.payload, "[1]");
    assert.equal((await storage.listTasks()).length, 1);
    assert.equal((await storage.eventsSince(0, 100)).length, 1);
  });

  it("writes one enqueued event per task at attempt 0", async ({ storage, clock }) => {
    clock.advance(5);
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b", queue: "other" })]);

    const events = await storage.eventsSince(0, 100);
    assert.deepEqual(
      events.map((e) => [e.taskId, e.type, e.attempt, e.at, e.queue, e.name]),
      [
        ["a", "enqueued", 0, START + 5, "default", "contract.echo"],
        ["b", "enqueued", 0, START + 5, "other", "contract.echo"],
      ],
    );
  });

  it("keeps its own copy: changing the caller's object later changes nothing", async ({
    storage,
  }) => {
    const task = newTask({ id: "a", payload: "[1]" });
    await storage.enqueue([task]);

    task.payload = "[2]";
    task.priority = 99;

    const record = await storage.getTask("a");
    assert.equal(record?.payload, "[1]");
    assert.equal(record?.priority, 0);
  });

  it("hands out copies: changing a returned record changes nothing stored", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);

    const record = await storage.getTask("a");
    assert.ok(record);
    record.state = "completed";
    record.priority = 99;
    const [claimed] = await storage.claim(claimRequest());
    assert.ok(claimed);
    claimed.token = 1_000;

    const again = await storage.getTask("a");
    assert.equal(again?.state, "running");
    assert.equal(again?.priority, 0);
    assert.equal(again?.token, 1);
  });
}

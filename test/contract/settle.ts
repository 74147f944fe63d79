import assert from "node:assert/strict";
import type { Storage } from "../../src/storage/contract.js";
import type { ClaimedTask } from "../../src/task/record.js";
import { claimRequest, completed, errorInfo, failed, newTask, START } from "./builders.js";
import type { Harness } from "./harness.js";

/** Enqueues task `a` and claims it. */
async function holdOne(storage: Storage): Promise<ClaimedTask> {
  await storage.enqueue([newTask({ id: "a" })]);
  const [held] = await storage.claim(claimRequest());
  assert.ok(held, "the task is claimed");
  return held;
}

/** The events of `id` after its enqueued and executing ones. */
async function laterEvents(storage: Storage, id: string) {
  const events = await storage.taskEvents(id);
  return events.slice(2);
}

export function settleTests({ it }: Harness): void {
  it("completed: stores the result, clears the lease, writes a completed event", async ({
    storage,
    clock,
  }) => {
    const held = await holdOne(storage);
    clock.advance(250);

    assert.deepEqual(await storage.settle([completed(held, '{"x":1}')]), [true]);

    const record = await storage.getTask("a");
    assert.equal(record?.state, "completed");
    assert.equal(record?.finishedAt, START + 250);
    assert.equal(record?.leaseOwner, null);
    assert.equal(record?.leaseExpiresAt, null);
    assert.equal(record?.lastError, null);
    assert.deepEqual(await storage.getOutcome("a"), { state: "completed", result: '{"x":1}' });

    const events = await laterEvents(storage, "a");
    assert.deepEqual(
      events.map((e) => [e.type, e.attempt, e.at]),
      [["completed", 1, START + 250]],
    );
  });

  it("failed with a retry time: retrying at that time, events error then retry", async ({
    storage,
    clock,
  }) => {
    const held = await holdOne(storage);
    clock.advance(100);

    const error = errorInfo("flaky", "TypeError");
    assert.deepEqual(await storage.settle([failed(held, START + 5_000, error)]), [true]);

    const record = await storage.getTask("a");
    assert.equal(record?.state, "retrying");
    assert.equal(record?.runAt, START + 5_000);
    assert.deepEqual(record?.lastError, error);
    assert.equal(record?.leaseOwner, null);
    assert.equal(record?.leaseExpiresAt, null);
    assert.equal(record?.finishedAt, null);

    const events = await laterEvents(storage, "a");
    assert.deepEqual(
      events.map((e) => [e.type, e.attempt, e.at]),
      [
        ["error", 1, START + 100],
        ["retry", 1, START + 100],
      ],
    );
    assert.deepEqual(events[0]?.error, error);
    assert.equal(events[1]?.runAt, START + 5_000);
  });

  it("failed for good: failed, finished, error kept, one error event", async ({
    storage,
    clock,
  }) => {
    const held = await holdOne(storage);
    clock.advance(100);

    const error = errorInfo("broken");
    assert.deepEqual(await storage.settle([failed(held, null, error)]), [true]);

    const record = await storage.getTask("a");
    assert.equal(record?.state, "failed");
    assert.equal(record?.finishedAt, START + 100);
    assert.deepEqual(record?.lastError, error);
    assert.equal(record?.leaseOwner, null);
    assert.deepEqual(await storage.getOutcome("a"), { state: "failed", error });

    const events = await laterEvents(storage, "a");
    assert.deepEqual(
      events.map((e) => [e.type, e.attempt]),
      [["error", 1]],
    );
    assert.deepEqual(events[0]?.error, error);
  });

  it("cancelled: cancelled with the given error, one cancelled event", async ({
    storage,
    clock,
  }) => {
    const held = await holdOne(storage);
    clock.advance(100);

    const error = errorInfo("stopped by user", "TaskCancelledError");
    const applied = await storage.settle([
      { id: "a", token: held.token, outcome: "cancelled", error },
    ]);
    assert.deepEqual(applied, [true]);

    const record = await storage.getTask("a");
    assert.equal(record?.state, "cancelled");
    assert.equal(record?.finishedAt, START + 100);
    assert.deepEqual(record?.lastError, error);
    assert.deepEqual(await storage.getOutcome("a"), { state: "cancelled", error });

    const events = await laterEvents(storage, "a");
    assert.deepEqual(
      events.map((e) => [e.type, e.attempt]),
      [["cancelled", 1]],
    );
  });

  it("answers one boolean per settlement, in order", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" }), newTask({ id: "c" })]);
    const [a, b, c] = await storage.claim(claimRequest());
    assert.ok(a && b && c);

    const applied = await storage.settle([
      completed(a),
      completed({ id: "b", token: b.token + 1 }),
      failed(c, null),
      completed({ id: "nobody", token: 1 }),
    ]);

    assert.deepEqual(applied, [true, false, true, false]);
    assert.equal((await storage.getTask("b"))?.state, "running");
  });

  it("a task settles only once", async ({ storage }) => {
    const held = await holdOne(storage);

    assert.deepEqual(await storage.settle([completed(held, '"first"')]), [true]);
    assert.deepEqual(await storage.settle([failed(held, null)]), [false]);

    assert.deepEqual(await storage.getOutcome("a"), { state: "completed", result: '"first"' });
  });
}

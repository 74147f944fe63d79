import assert from "node:assert/strict";
import { claimRequest, completed, failed, newTask, START } from "./builders.js";
import type { Harness } from "./harness.js";

export function cancelTests({ it }: Harness): void {
  it("cancels a pending task: cancelled, reason stored, event written", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    clock.advance(50);

    assert.equal(await storage.cancel("a", "not needed"), "cancelled");

    const record = await storage.getTask("a");
    const reason = { name: "TaskCancelledError", message: "not needed" };
    assert.equal(record?.state, "cancelled");
    assert.equal(record?.finishedAt, START + 50);
    assert.deepEqual(record?.lastError, reason);
    assert.deepEqual(await storage.getOutcome("a"), { state: "cancelled", error: reason });

    const events = await storage.taskEvents("a");
    assert.deepEqual(
      events.map((e) => [e.type, e.at]),
      [
        ["enqueued", START],
        ["cancelled", START + 50],
      ],
    );
    assert.deepEqual(events[1]?.error, reason);
  });

  it("cancels a scheduled task, which is then never claimed", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a", runAt: START + 100 })]);

    assert.equal(await storage.cancel("a", "changed my mind"), "cancelled");
    clock.advance(100);

    assert.deepEqual(await storage.claim(claimRequest()), []);
    assert.equal((await storage.getTask("a"))?.state, "cancelled");
  });

  it("cancels a retrying task", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    await storage.settle([failed(held, START + 1_000)]);

    assert.equal(await storage.cancel("a", "give up"), "cancelled");

    const record = await storage.getTask("a");
    assert.equal(record?.state, "cancelled");
    assert.equal(record?.lastError?.name, "TaskCancelledError");
  });

  it("flags a running task for its worker and leaves it running", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);

    assert.equal(await storage.cancel("a", "stop it"), "requested");

    const record = await storage.getTask("a");
    assert.equal(record?.state, "running");
    assert.equal(record?.cancelRequested, true);
    assert.equal(record?.token, held.token);
    assert.equal(await storage.cancel("a", "stop it now"), "requested");
  });

  it("changes nothing on a finished task", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    await storage.settle([completed(held, '"done"')]);
    const before = await storage.getTask("a");
    const eventCount = (await storage.taskEvents("a")).length;

    assert.equal(await storage.cancel("a", "too late"), "finished");

    assert.deepEqual(await storage.getTask("a"), before);
    assert.equal((await storage.taskEvents("a")).length, eventCount);
    assert.equal(await storage.cancel("a", "again"), "finished");
  });

  it("answers finished for a failed, cancelled or expired task", async ({ storage, clock }) => {
    await storage.enqueue([
      newTask({ id: "failed" }),
      newTask({ id: "cancelled" }),
      newTask({ id: "expired", expiresAt: START + 10 }),
    ]);
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.equal(held?.id, "failed");
    await storage.settle([failed(held, null)]);
    await storage.cancel("cancelled", "first");
    clock.advance(10);
    await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 86_400_000 });

    for (const id of ["failed", "cancelled", "expired"]) {
      const before = await storage.getTask(id);
      assert.equal(await storage.cancel(id, "again"), "finished", id);
      assert.deepEqual(await storage.getTask(id), before, id);
    }
  });

  it("answers unknown for an id never stored", async ({ storage }) => {
    assert.equal(await storage.cancel("nobody", "why"), "unknown");
  });
}

import assert from "node:assert/strict";
import type { Storage } from "../../src/storage/contract.js";
import { claimRequest, completed, failed, newTask, START } from "./builders.js";
import type { Harness } from "./harness.js";

/** Enqueues `id` and fails it for good. */
async function failForGood(storage: Storage, id: string, queue = "default"): Promise<void> {
  await storage.enqueue([newTask({ id, queue, idempotencyKey: `key-${id}` })]);
  const [held] = await storage.claim(claimRequest({ queues: [queue], limit: 1 }));
  assert.equal(held?.id, id);
  await storage.settle([failed(held, null)]);
}

export function deadLetterTests({ it }: Harness): void {
  it("requeue puts a task that failed for good back to pending, due now", async ({
    storage,
    clock,
  }) => {
    await failForGood(storage, "a");
    const before = await storage.getTask("a");
    clock.advance(500);

    assert.equal(await storage.requeue("a"), "requeued");

    const record = await storage.getTask("a");
    assert.equal(record?.state, "pending");
    assert.equal(record?.runAt, START + 500);
    assert.equal(record?.attempts, 0);
    assert.equal(record?.lastError, null);
    assert.equal(record?.finishedAt, null);
    assert.equal(record?.idempotencyKey, null);
    assert.equal(record?.token, before?.token);
    assert.deepEqual(await storage.getOutcome("a"), { state: "pending" });
    assert.equal((await storage.taskEvents("a")).at(-1)?.type, "requeued");

    const [again] = await storage.claim(claimRequest());
    assert.equal(again?.id, "a");
    assert.equal(again?.attempts, 1);
    assert.equal(again?.token, (before?.token ?? 0) + 1);
    assert.deepEqual(await storage.settle([completed(again)]), [true]);
  });

  it("requeue takes cancelled and expired tasks too", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "c" }), newTask({ id: "e", expiresAt: START + 10 })]);
    await storage.cancel("c", "no");
    clock.advance(20);
    await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 60_000 });
    assert.equal((await storage.getTask("e"))?.state, "expired");

    assert.equal(await storage.requeue("c"), "requeued");
    assert.equal(await storage.requeue("e"), "requeued");

    const record = await storage.getTask("e");
    assert.equal(record?.expiresAt, null);
    assert.equal((await storage.claim(claimRequest())).length, 2);
  });

  it("requeue refuses completed, live and unknown tasks and changes nothing", async ({
    storage,
  }) => {
    await storage.enqueue([newTask({ id: "done" }), newTask({ id: "waiting" })]);
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.equal(held?.id, "done");
    await storage.settle([completed(held)]);

    assert.equal(await storage.requeue("done"), "completed");
    assert.equal(await storage.requeue("waiting"), "live");
    assert.equal(await storage.requeue("nope"), "unknown");
    assert.deepEqual(await storage.getOutcome("done"), { state: "completed", result: '"ok"' });
  });

  it("failed tasks stay listable with their last error and attempts", async ({ storage }) => {
    await failForGood(storage, "a");

    const [dead] = await storage.listTasks({ state: "failed" });

    assert.equal(dead?.id, "a");
    assert.equal(dead?.attempts, 1);
    assert.equal(dead?.lastError?.message, "boom");
  });

  it("purge deletes finished tasks of the given states, with their results", async ({
    storage,
  }) => {
    await failForGood(storage, "f");
    await storage.enqueue([newTask({ id: "ok" }), newTask({ id: "live" })]);
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.equal(held?.id, "ok");
    await storage.settle([completed(held)]);

    assert.equal(await storage.purge({ states: ["completed"] }), 1);

    assert.equal(await storage.getTask("ok"), null);
    assert.equal(await storage.getOutcome("ok"), null);
    assert.equal((await storage.getTask("f"))?.state, "failed");
    assert.equal((await storage.getTask("live"))?.state, "pending");
    assert.equal(await storage.purge({ states: ["completed"] }), 0);
  });

  it("purge honours queue, finishedBefore and limit", async ({ storage, clock }) => {
    await failForGood(storage, "old", "q1");
    clock.advance(1_000);
    await failForGood(storage, "new", "q1");
    await failForGood(storage, "other", "q2");

    assert.equal(
      await storage.purge({ states: ["failed"], queue: "q1", finishedBefore: START + 500 }),
      1,
    );
    assert.equal(await storage.getTask("old"), null);
    assert.ok(await storage.getTask("new"));

    assert.equal(await storage.purge({ states: ["failed"], limit: 1 }), 1);
    assert.equal(await storage.purge({ states: ["failed"], limit: 1 }), 1);
    assert.equal(await storage.purge({ states: ["failed"] }), 0);
  });

  it("purge refuses states that are not final and deletes nothing", async ({ storage }) => {
    await failForGood(storage, "f");

    await assert.rejects(storage.purge({ states: ["failed", "pending"] }), {
      name: "InvalidArgumentError",
      message: /pending/,
    });

    assert.ok(await storage.getTask("f"));
  });

  it("purge frees the key of what it deleted", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", idempotencyKey: "k" })]);
    await storage.cancel("a", "no");
    await storage.purge({ states: ["cancelled"] });

    assert.deepEqual(await storage.enqueue([newTask({ id: "b", idempotencyKey: "k" })]), ["b"]);
  });
}

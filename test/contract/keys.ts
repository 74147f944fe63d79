import assert from "node:assert/strict";
import { claimRequest, completed, failed, newTask } from "./builders.js";
import type { Harness } from "./harness.js";

export function keyTests({ it }: Harness): void {
  it("enqueue answers each task's own id when no key is involved", async ({ storage }) => {
    const ids = await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);

    assert.deepEqual(ids, ["a", "b"]);
    assert.equal((await storage.getTask("a"))?.idempotencyKey, null);
  });

  it("a key held by a waiting task answers the holder's id and stores nothing", async ({
    storage,
  }) => {
    assert.deepEqual(await storage.enqueue([newTask({ id: "a", idempotencyKey: "k" })]), ["a"]);

    const ids = await storage.enqueue([newTask({ id: "b", idempotencyKey: "k" })]);

    assert.deepEqual(ids, ["a"]);
    assert.equal(await storage.getTask("b"), null);
    assert.deepEqual(await storage.taskEvents("b"), []);
    assert.equal((await storage.getTask("a"))?.idempotencyKey, "k");
  });

  it("a key held by a running task is still held", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", idempotencyKey: "k" })]);
    await storage.claim(claimRequest());

    assert.deepEqual(await storage.enqueue([newTask({ id: "b", idempotencyKey: "k" })]), ["a"]);
  });

  it("within one batch the first task with a key holds it for the rest", async ({ storage }) => {
    const ids = await storage.enqueue([
      newTask({ id: "a", idempotencyKey: "k" }),
      newTask({ id: "b", idempotencyKey: "k" }),
      newTask({ id: "c", idempotencyKey: "other" }),
    ]);

    assert.deepEqual(ids, ["a", "a", "c"]);
    assert.equal(await storage.getTask("b"), null);
    assert.equal((await storage.listTasks()).length, 2);
  });

  it("a key is free again once its holder completed or failed for good", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", idempotencyKey: "k" })]);
    const [first] = await storage.claim(claimRequest());
    assert.ok(first);
    await storage.settle([completed(first)]);

    assert.deepEqual(await storage.enqueue([newTask({ id: "b", idempotencyKey: "k" })]), ["b"]);
    const [second] = await storage.claim(claimRequest());
    assert.ok(second);
    await storage.settle([failed(second, null)]);

    assert.deepEqual(await storage.enqueue([newTask({ id: "c", idempotencyKey: "k" })]), ["c"]);
  });

  it("a key is free again once its holder is cancelled", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", idempotencyKey: "k" })]);
    await storage.cancel("a", "no");

    assert.deepEqual(await storage.enqueue([newTask({ id: "b", idempotencyKey: "k" })]), ["b"]);
  });

  it("a retrying task still holds its key", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a", idempotencyKey: "k" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    await storage.settle([failed(held, clock.now() + 1_000)]);

    assert.deepEqual(await storage.enqueue([newTask({ id: "b", idempotencyKey: "k" })]), ["a"]);
  });

  it("a batch refused for a duplicate id takes no key", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);

    await assert.rejects(
      storage.enqueue([newTask({ id: "b", idempotencyKey: "k" }), newTask({ id: "a" })]),
    );

    assert.deepEqual(await storage.enqueue([newTask({ id: "c", idempotencyKey: "k" })]), ["c"]);
  });

  it("two handles enqueueing the same key at once store one task", async ({ storage, another }) => {
    const other = await another();
    const tries = Array.from({ length: 6 }, (_, i) =>
      (i % 2 === 0 ? storage : other).enqueue([newTask({ id: `t${i}`, idempotencyKey: "k" })]),
    );

    const answers = (await Promise.all(tries)).flat();

    const holder = answers[0];
    assert.ok(
      answers.every((id) => id === holder),
      `answers differ: ${answers.join(", ")}`,
    );
    assert.equal((await storage.listTasks()).length, 1);
  });
}

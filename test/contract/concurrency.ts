import assert from "node:assert/strict";
import type { Storage } from "../../src/storage/contract.js";
import { claimRequest, completed, newTask, newTasks } from "./builders.js";
import type { Harness } from "./harness.js";

/** Claims from `storage` in rounds of `batch` until a round comes back empty; settles each task. */
async function drain(storage: Storage, owner: string, batch: number): Promise<string[]> {
  const taken: string[] = [];
  for (;;) {
    const claimed = await storage.claim(claimRequest({ owner, limit: batch }));
    if (claimed.length === 0) return taken;

    taken.push(...claimed.map((t) => t.id));
    const applied = await storage.settle(claimed.map((t) => completed(t)));
    assert.ok(
      applied.every((ok) => ok),
      `${owner} could not settle what it claimed`,
    );
  }
}

export function concurrencyTests({ it }: Harness): void {
  it("close is safe to call twice", async ({ storage, another }) => {
    const other = await another();

    await other.close();
    await other.close();

    await storage.enqueue([newTask({ id: "a" })]);
    assert.equal((await storage.getTask("a"))?.state, "pending");
  });

  it("another handle sees what one handle stored and changed", async ({ storage, another }) => {
    const other = await another();

    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await other.claim(claimRequest({ owner: "other" }));
    assert.equal(held?.id, "a");
    assert.equal((await storage.getTask("a"))?.leaseOwner, "other");
    assert.deepEqual(await storage.claim(claimRequest()), []);

    assert.ok(held);
    assert.deepEqual(await other.settle([completed(held, '"from other"')]), [true]);
    assert.deepEqual(await storage.getOutcome("a"), { state: "completed", result: '"from other"' });
  });

  it("concurrent claimers on several handles take each of 500 tasks exactly once", async ({
    storage,
    another,
  }) => {
    const handles = [storage, ...(await Promise.all([1, 2, 3, 4].map(() => another())))];
    const total = 500;
    // Enqueued in batches, as producers do, so no backend needs one huge statement.
    for (let start = 0; start < total; start += 100) {
      await storage.enqueue(newTasks(100, `c${start / 100}`));
    }

    const perHandle = await Promise.all(handles.map((h, i) => drain(h, `worker-${i}`, 7)));

    const all = perHandle.flat();
    assert.equal(all.length, total, "every task claimed once, none twice");
    assert.equal(new Set(all).size, total, "no task claimed twice");
    assert.deepEqual(await storage.countTasks(), { default: { completed: total } });
  });
}

import assert from "node:assert/strict";
import type { QueueControl } from "../../src/storage/contract.js";
import { claimRequest, completed, newTasks } from "./builders.js";
import type { Harness } from "./harness.js";

const open: QueueControl = { paused: false, concurrency: null, rateLimit: null };

export function controlTests({ it }: Harness): void {
  it("queueControls answers what was set, and a default control removes it", async ({
    storage,
  }) => {
    assert.deepEqual(await storage.queueControls(), {});

    await storage.setQueueControl("q", { ...open, concurrency: 2 });
    await storage.setQueueControl("r", { ...open, rateLimit: { max: 5, intervalMs: 1_000 } });
    assert.deepEqual(await storage.queueControls(), {
      q: { ...open, concurrency: 2 },
      r: { ...open, rateLimit: { max: 5, intervalMs: 1_000 } },
    });

    await storage.setQueueControl("q", open);
    await storage.setQueueControl("r", null);
    assert.deepEqual(await storage.queueControls(), {});
  });

  it("a paused queue gives nothing; the claim goes on to the next queue", async ({ storage }) => {
    await storage.enqueue([
      ...newTasks(2, "p", { queue: "p" }),
      ...newTasks(2, "o", { queue: "o" }),
    ]);
    await storage.setQueueControl("p", { ...open, paused: true });

    const claimed = await storage.claim(claimRequest({ queues: ["p", "o"] }));

    assert.deepEqual(claimed.map((task) => task.id).sort(), ["o-0", "o-1"]);
    assert.equal((await storage.getTask("p-0"))?.state, "pending");
  });

  it("a resumed queue gives its tasks again", async ({ storage }) => {
    await storage.enqueue(newTasks(2, "p", { queue: "p" }));
    await storage.setQueueControl("p", { ...open, paused: true });
    assert.deepEqual(await storage.claim(claimRequest({ queues: ["p"] })), []);

    await storage.setQueueControl("p", open);

    assert.equal((await storage.claim(claimRequest({ queues: ["p"] }))).length, 2);
  });

  it("a concurrency limit counts running tasks over every handle", async ({ storage, another }) => {
    const other = await another();
    await storage.enqueue(newTasks(5, "c", { queue: "c" }));
    await storage.setQueueControl("c", { ...open, concurrency: 2 });

    const first = await storage.claim(claimRequest({ queues: ["c"], limit: 10 }));
    assert.equal(first.length, 2);
    assert.deepEqual(await other.claim(claimRequest({ queues: ["c"], owner: "w2" })), []);

    const [done] = first;
    assert.ok(done);
    await storage.settle([completed(done)]);
    const next = await other.claim(claimRequest({ queues: ["c"], owner: "w2" }));
    assert.equal(next.length, 1);
  });

  it("a concurrency limit holds when handles claim at once", async ({ storage, another }) => {
    const others = [storage, await another(), await another()];
    await storage.enqueue(newTasks(20, "c", { queue: "c" }));
    await storage.setQueueControl("c", { ...open, concurrency: 3 });

    const claims = others.map((handle, i) =>
      handle.claim(claimRequest({ queues: ["c"], limit: 3, owner: `w${i}` })),
    );
    const taken = (await Promise.all(claims)).flat();

    assert.equal(taken.length, 3);
    assert.equal((await storage.countTasks()).c?.running, 3);
  });

  it("a rate limit caps claims per window, and the next window opens again", async ({
    storage,
    clock,
  }) => {
    // Start at a window's beginning so the test does not straddle two windows.
    clock.set(Math.ceil(clock.now() / 10_000) * 10_000);
    await storage.enqueue(newTasks(10, "r", { queue: "r", runAt: clock.now() }));
    await storage.setQueueControl("r", { ...open, rateLimit: { max: 3, intervalMs: 10_000 } });

    assert.equal((await storage.claim(claimRequest({ queues: ["r"], limit: 2 }))).length, 2);
    assert.equal((await storage.claim(claimRequest({ queues: ["r"], limit: 5 }))).length, 1);
    clock.advance(9_999);
    assert.deepEqual(await storage.claim(claimRequest({ queues: ["r"] })), []);

    clock.advance(1);
    assert.equal((await storage.claim(claimRequest({ queues: ["r"], limit: 10 }))).length, 3);
  });

  it("a claim that finds fewer tasks than its rate allows counts only those", async ({
    storage,
    clock,
  }) => {
    clock.set(Math.ceil(clock.now() / 10_000) * 10_000);
    await storage.setQueueControl("r", { ...open, rateLimit: { max: 3, intervalMs: 10_000 } });
    await storage.enqueue(newTasks(1, "a", { queue: "r", runAt: clock.now() }));
    assert.equal((await storage.claim(claimRequest({ queues: ["r"] }))).length, 1);

    await storage.enqueue(newTasks(5, "b", { queue: "r", runAt: clock.now() }));

    assert.equal((await storage.claim(claimRequest({ queues: ["r"] }))).length, 2);
  });

  it("another handle sees the controls one handle set", async ({ storage, another }) => {
    const other = await another();
    await storage.enqueue(newTasks(1, "p", { queue: "p" }));
    await storage.setQueueControl("p", { ...open, paused: true });

    assert.deepEqual(await other.queueControls(), { p: { ...open, paused: true } });
    assert.deepEqual(await other.claim(claimRequest({ queues: ["p"] })), []);
  });

  it("a worker's refill after a settle honours a concurrency limit", async ({ storage }) => {
    await storage.enqueue(newTasks(5, "c", { queue: "c" }));
    await storage.setQueueControl("c", { ...open, concurrency: 2 });
    const [one, two] = await storage.claim(claimRequest({ queues: ["c"] }));
    assert.ok(one && two);

    // The refill a worker makes: in one step where the backend has one.
    const refill = claimRequest({ queues: ["c"], limit: 5 });
    let claimed: unknown[];
    if (storage.settleAndClaim) {
      claimed = (await storage.settleAndClaim([completed(one)], refill)).claimed;
    } else {
      await storage.settle([completed(one)]);
      claimed = await storage.claim(refill);
    }

    assert.equal(claimed.length, 1);
  });
}

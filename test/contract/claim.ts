import assert from "node:assert/strict";
import { claimRequest, newTask, newTasks, START } from "./builders.js";
import type { Harness } from "./harness.js";

const ids = (tasks: readonly { id: string }[]) => tasks.map((t) => t.id);

export function claimTests({ it }: Harness): void {
  it("leases a claimed task: running, attempt and token raised, owner and expiry set", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    clock.advance(1_000);

    const [claimed] = await storage.claim(claimRequest({ owner: "w-7", leaseMs: 5_000 }));

    assert.ok(claimed);
    assert.equal(claimed.id, "a");
    assert.equal(claimed.state, "running");
    assert.equal(claimed.attempts, 1);
    assert.equal(claimed.token, 1);
    assert.equal(claimed.leaseOwner, "w-7");
    assert.equal(claimed.leaseExpiresAt, START + 6_000);
    assert.equal(claimed.startedAt, START + 1_000);
    assert.deepEqual(await storage.getTask("a"), claimed);
  });

  it("writes one executing event per claimed task with the new attempt", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    clock.advance(10);

    await storage.claim(claimRequest());

    const executing = (await storage.eventsSince(0, 100)).filter((e) => e.type === "executing");
    assert.deepEqual(
      executing.map((e) => [e.taskId, e.attempt, e.at]),
      [
        ["a", 1, START + 10],
        ["b", 1, START + 10],
      ],
    );
  });

  it("returns nothing when nothing is due, and never the same task twice", async ({ storage }) => {
    assert.deepEqual(await storage.claim(claimRequest()), []);

    await storage.enqueue([newTask({ id: "a" })]);
    assert.equal((await storage.claim(claimRequest())).length, 1);
    assert.deepEqual(await storage.claim(claimRequest()), []);
  });

  it("takes at most `limit` tasks", async ({ storage }) => {
    await storage.enqueue(newTasks(5, "t"));

    assert.deepEqual(ids(await storage.claim(claimRequest({ limit: 2 }))), ["t-0", "t-1"]);
    assert.deepEqual(ids(await storage.claim(claimRequest({ limit: 2 }))), ["t-2", "t-3"]);
    assert.deepEqual(ids(await storage.claim(claimRequest({ limit: 2 }))), ["t-4"]);
  });

  it("takes tasks of one priority in enqueue order", async ({ storage }) => {
    // Ids that do not sort in enqueue order, so a backend ordering by id would fail.
    await storage.enqueue([newTask({ id: "m" }), newTask({ id: "z" })]);
    await storage.enqueue([newTask({ id: "a" })]);

    assert.deepEqual(ids(await storage.claim(claimRequest())), ["m", "z", "a"]);
  });

  it("takes higher priority first, then earlier run-at, then enqueue order", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([
      newTask({ id: "low", priority: -1 }),
      newTask({ id: "mid-late", priority: 5, runAt: START + 20 }),
      newTask({ id: "mid-early", priority: 5, runAt: START + 10 }),
      newTask({ id: "mid-early-2", priority: 5, runAt: START + 10 }),
      newTask({ id: "high", priority: 9, runAt: START + 30 }),
      newTask({ id: "zero" }),
    ]);
    clock.advance(30);

    assert.deepEqual(ids(await storage.claim(claimRequest())), [
      "high",
      "mid-early",
      "mid-early-2",
      "mid-late",
      "zero",
      "low",
    ]);
  });

  it("reads queues strictly in the order given, whatever the priorities", async ({ storage }) => {
    await storage.enqueue([
      newTask({ id: "bulk-high", queue: "bulk", priority: 100 }),
      newTask({ id: "urgent-1", queue: "urgent" }),
      newTask({ id: "urgent-2", queue: "urgent", priority: -5 }),
    ]);

    const request = claimRequest({ queues: ["urgent", "bulk"], limit: 2 });
    assert.deepEqual(ids(await storage.claim(request)), ["urgent-1", "urgent-2"]);
    assert.deepEqual(ids(await storage.claim(request)), ["bulk-high"]);
  });

  it("fills a claim from the next queue once earlier ones have nothing due", async ({
    storage,
  }) => {
    await storage.enqueue([
      newTask({ id: "b-1", queue: "b" }),
      newTask({ id: "a-1", queue: "a" }),
      newTask({ id: "a-later", queue: "a", runAt: START + 1_000 }),
      newTask({ id: "c-1", queue: "c" }),
    ]);

    const claimed = await storage.claim(claimRequest({ queues: ["a", "b"], limit: 5 }));
    assert.deepEqual(ids(claimed), ["a-1", "b-1"]);
  });

  it("leaves a scheduled task until its run-at time comes", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a", runAt: START + 1_000 })]);

    assert.deepEqual(await storage.claim(claimRequest()), []);

    clock.advance(999);
    assert.deepEqual(await storage.claim(claimRequest()), []);

    clock.advance(1);
    const [claimed] = await storage.claim(claimRequest());
    assert.equal(claimed?.id, "a");
    assert.equal(claimed?.state, "running");
  });

  it("takes only tasks routed to the requested worker types", async ({ storage }) => {
    await storage.enqueue([
      newTask({ id: "thread", worker: "thread" }),
      newTask({ id: "async", worker: "async" }),
      newTask({ id: "process", worker: "process" }),
      newTask({ id: "gevent", worker: "gevent" }),
    ]);

    const request = claimRequest({ workers: ["process", "thread"] });
    assert.deepEqual(ids(await storage.claim(request)), ["thread", "process"]);
    assert.deepEqual(ids(await storage.claim(claimRequest())), ["async"]);
    assert.equal((await storage.getTask("gevent"))?.state, "pending");
  });

  it("never takes a task whose time-to-live has passed", async ({ storage, clock }) => {
    await storage.enqueue([
      newTask({ id: "expiring", expiresAt: START + 100 }),
      newTask({ id: "lasting", expiresAt: START + 101 }),
    ]);
    clock.advance(100);

    assert.deepEqual(ids(await storage.claim(claimRequest())), ["lasting"]);
    assert.deepEqual(await storage.claim(claimRequest()), []);
    assert.equal((await storage.getTask("expiring"))?.state, "pending");
  });

  it("takes a retrying task once its retry time comes, raising attempt and token again", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [first] = await storage.claim(claimRequest());
    assert.ok(first);
    await storage.settle([
      {
        id: "a",
        token: first.token,
        outcome: "failed",
        error: { name: "Error", message: "x" },
        retryAt: START + 500,
      },
    ]);

    assert.deepEqual(await storage.claim(claimRequest()), []);
    clock.advance(500);

    const [second] = await storage.claim(claimRequest());
    assert.equal(second?.id, "a");
    assert.equal(second?.attempts, 2);
    assert.equal(second?.token, 2);
  });

  it("ignores queues it was not asked for", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a", queue: "elsewhere" })]);

    assert.deepEqual(await storage.claim(claimRequest({ queues: ["default"] })), []);
    assert.deepEqual(ids(await storage.claim(claimRequest({ queues: ["elsewhere"] }))), ["a"]);
  });
}

import assert from "node:assert/strict";
import { claimRequest, completed, failed, newTask, START } from "./builders.js";
import type { Harness } from "./harness.js";

export function leaseTests({ it }: Harness): void {
  it("heartbeat extends a held lease from now", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest({ leaseMs: 1_000 }));
    assert.ok(held);
    clock.advance(800);

    const reply = await storage.heartbeat([{ id: "a", token: held.token }], 2_000);

    assert.deepEqual(reply, { lost: [], cancelRequested: [] });
    assert.equal((await storage.getTask("a"))?.leaseExpiresAt, START + 2_800);
  });

  it("heartbeat keeps a lease whose time ran out if nobody has taken the task", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest({ leaseMs: 1_000 }));
    assert.ok(held);
    clock.advance(1_500);

    const reply = await storage.heartbeat([{ id: "a", token: held.token }], 1_000);

    assert.deepEqual(reply, { lost: [], cancelRequested: [] });
    assert.equal((await storage.getTask("a"))?.leaseExpiresAt, START + 2_500);
    assert.equal((await storage.maintain({ maxLeaseLosses: 5, eventTtlMs: 1e9 })).leasesExpired, 0);
  });

  it("heartbeat reports settled, re-claimed and unknown leases as lost", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([newTask({ id: "done" }), newTask({ id: "taken" })]);
    const [done, taken] = await storage.claim(claimRequest({ leaseMs: 1_000 }));
    assert.ok(done && taken);
    await storage.settle([completed(done)]);

    // `taken` loses its lease and another worker claims it under a new token.
    clock.advance(1_000);
    await storage.maintain({ maxLeaseLosses: 5, eventTtlMs: 86_400_000 });
    const [retaken] = await storage.claim(claimRequest({ owner: "worker-2" }));
    assert.equal(retaken?.id, "taken");

    const reply = await storage.heartbeat(
      [
        { id: "done", token: done.token },
        { id: "taken", token: taken.token },
        { id: "ghost", token: 1 },
      ],
      1_000,
    );
    assert.deepEqual([...reply.lost].sort(), ["done", "ghost", "taken"]);
    assert.deepEqual(reply.cancelRequested, []);
    assert.equal((await storage.getTask("taken"))?.leaseOwner, "worker-2");
  });

  it("heartbeat names held tasks whose cancellation was asked for", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    const [a, b] = await storage.claim(claimRequest());
    assert.ok(a && b);

    assert.equal(await storage.cancel("b", "user asked"), "requested");
    const reply = await storage.heartbeat(
      [
        { id: "a", token: a.token },
        { id: "b", token: b.token },
      ],
      1_000,
    );

    assert.deepEqual(reply, { lost: [], cancelRequested: ["b"] });
  });

  it("a stale token settles nothing and changes nothing", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [first] = await storage.claim(claimRequest({ leaseMs: 1_000 }));
    assert.ok(first);
    clock.advance(1_000);
    await storage.maintain({ maxLeaseLosses: 5, eventTtlMs: 86_400_000 });
    const [second] = await storage.claim(claimRequest({ owner: "worker-2" }));
    assert.equal(second?.token, first.token + 1);
    const before = await storage.getTask("a");
    const eventsBefore = await storage.taskEvents("a");

    const applied = await storage.settle([
      completed(first, '"late"'),
      failed(first, null),
      { id: "a", token: first.token, outcome: "cancelled", error: { name: "X", message: "y" } },
    ]);

    assert.deepEqual(applied, [false, false, false]);
    assert.deepEqual(await storage.getTask("a"), before);
    assert.deepEqual(await storage.taskEvents("a"), eventsBefore);
  });

  it("the current token still settles after a stale one was refused", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);

    const applied = await storage.settle([
      completed({ id: "a", token: held.token - 1 }, '"stale"'),
      completed(held, '"fresh"'),
    ]);

    assert.deepEqual(applied, [false, true]);
    assert.deepEqual(await storage.getOutcome("a"), { state: "completed", result: '"fresh"' });
  });

  it("release hands a task back at once, its attempt not counted", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    const eventCount = (await storage.taskEvents("a")).length;

    await storage.release([{ id: "a", token: held.token }]);

    const record = await storage.getTask("a");
    assert.equal(record?.state, "pending");
    assert.equal(record?.attempts, 0);
    assert.equal(record?.leaseOwner, null);
    assert.equal(record?.leaseExpiresAt, null);
    assert.equal((await storage.taskEvents("a")).length, eventCount);

    const [again] = await storage.claim(claimRequest({ owner: "worker-2" }));
    assert.equal(again?.id, "a");
    assert.equal(again?.attempts, 1);
    assert.ok((again?.token ?? 0) > held.token, "the token never goes back");
  });

  it("release of a stale lease changes nothing", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    await storage.settle([completed(held)]);

    await storage.release([{ id: "a", token: held.token }]);

    assert.equal((await storage.getTask("a"))?.state, "completed");
    assert.deepEqual(await storage.claim(claimRequest()), []);
  });
}

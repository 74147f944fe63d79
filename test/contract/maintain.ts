import assert from "node:assert/strict";
import type { MaintenanceOptions } from "../../src/storage/contract.js";
import { claimRequest, completed, failed, newTask, START } from "./builders.js";
import type { Harness } from "./harness.js";

const DAY = 86_400_000;
const options: MaintenanceOptions = { maxLeaseLosses: 3, eventTtlMs: DAY };
const nothing = { leasesExpired: 0, tasksExpired: 0, resultsDeleted: 0, eventsDeleted: 0 };

export function maintainTests({ it }: Harness): void {
  it("reports nothing when nothing is due", async ({ storage }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    await storage.claim(claimRequest());

    assert.deepEqual(await storage.maintain(options), nothing);
  });

  it("puts a task whose lease ran out back to pending at once", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest({ leaseMs: 1_000 }));
    assert.ok(held);
    clock.advance(999);
    assert.equal((await storage.maintain(options)).leasesExpired, 0);
    clock.advance(1);

    assert.deepEqual(await storage.maintain(options), { ...nothing, leasesExpired: 1 });

    const record = await storage.getTask("a");
    assert.equal(record?.state, "pending");
    assert.equal(record?.leaseLosses, 1);
    assert.equal(record?.leaseOwner, null);
    assert.equal(record?.leaseExpiresAt, null);

    const last = (await storage.taskEvents("a")).at(-1);
    assert.equal(last?.type, "retry");
    assert.equal(last?.error?.name, "WorkerLostError");
    assert.equal(last?.at, START + 1_000);

    const [again] = await storage.claim(claimRequest({ owner: "worker-2" }));
    assert.equal(again?.id, "a");
    assert.equal(again?.attempts, 2);
    assert.equal(again?.token, held.token + 1);
  });

  it("fails a task with WorkerLostError once it has lost too many leases", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([newTask({ id: "a", maxAttempts: 10 })]);
    const lose = async () => {
      await storage.claim(claimRequest({ leaseMs: 100 }));
      clock.advance(100);
      return storage.maintain({ ...options, maxLeaseLosses: 2 });
    };

    await lose();
    assert.equal((await storage.getTask("a"))?.state, "pending");
    assert.equal((await lose()).leasesExpired, 1);

    const record = await storage.getTask("a");
    assert.equal(record?.state, "failed");
    assert.equal(record?.leaseLosses, 2);
    assert.equal(record?.finishedAt, START + 200);
    assert.equal(record?.lastError?.name, "WorkerLostError");
    assert.equal((await storage.getOutcome("a"))?.error?.name, "WorkerLostError");

    const last = (await storage.taskEvents("a")).at(-1);
    assert.equal(last?.type, "error");
    assert.equal(last?.error?.name, "WorkerLostError");
  });

  it("cancels a task asked to cancel whose lease ran out", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    await storage.claim(claimRequest({ leaseMs: 100 }));
    assert.equal(await storage.cancel("a", "stop"), "requested");
    clock.advance(100);

    assert.deepEqual(await storage.maintain(options), { ...nothing, leasesExpired: 1 });

    const record = await storage.getTask("a");
    assert.equal(record?.state, "cancelled");
    assert.equal(record?.leaseLosses, 1);
    assert.equal(record?.finishedAt, START + 100);
    assert.equal((await storage.taskEvents("a")).at(-1)?.type, "cancelled");
    assert.deepEqual(await storage.claim(claimRequest()), []);
  });

  it("leaves a heartbeated lease alone", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    const [held] = await storage.claim(claimRequest({ leaseMs: 100 }));
    assert.ok(held);
    clock.advance(90);
    await storage.heartbeat([{ id: "a", token: held.token }], 100);
    clock.advance(90);

    assert.equal((await storage.maintain(options)).leasesExpired, 0);
    assert.equal((await storage.getTask("a"))?.state, "running");
  });

  it("expires waiting tasks whose time-to-live passed", async ({ storage, clock }) => {
    await storage.enqueue([
      newTask({ id: "pending", expiresAt: START + 100 }),
      newTask({ id: "scheduled", runAt: START + 500, expiresAt: START + 100 }),
      newTask({ id: "lasting", expiresAt: START + 101 }),
      newTask({ id: "forever" }),
    ]);
    clock.advance(100);

    assert.deepEqual(await storage.maintain(options), { ...nothing, tasksExpired: 2 });

    for (const id of ["pending", "scheduled"]) {
      const record = await storage.getTask(id);
      assert.equal(record?.state, "expired", id);
      assert.equal(record?.finishedAt, START + 100, id);
      const last = (await storage.taskEvents(id)).at(-1);
      assert.deepEqual([last?.type, last?.at], ["expired", START + 100], id);
    }
    assert.equal((await storage.getTask("lasting"))?.state, "pending");
    assert.equal((await storage.getTask("forever"))?.state, "pending");
  });

  it("never expires a running task", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a", expiresAt: START + 100 })]);
    await storage.claim(claimRequest({ leaseMs: 10_000 }));
    clock.advance(200);

    assert.equal((await storage.maintain(options)).tasksExpired, 0);
    assert.equal((await storage.getTask("a"))?.state, "running");
  });

  it("deletes finished tasks with their results after the result time-to-live", async ({
    storage,
    clock,
  }) => {
    await storage.enqueue([
      newTask({ id: "short", resultTtlMs: 1_000 }),
      newTask({ id: "long", resultTtlMs: 5_000 }),
      newTask({ id: "failing", resultTtlMs: 1_000 }),
      newTask({ id: "waiting", resultTtlMs: 1 }),
    ]);
    const held = await storage.claim(claimRequest({ limit: 3 }));
    const [short, long, failing] = held;
    assert.ok(short && long && failing);
    await storage.settle([completed(short), completed(long), failed(failing, null)]);
    clock.advance(999);
    assert.equal((await storage.maintain(options)).resultsDeleted, 0);
    clock.advance(1);

    assert.deepEqual(await storage.maintain(options), { ...nothing, resultsDeleted: 2 });

    assert.equal(await storage.getTask("short"), null);
    assert.equal(await storage.getOutcome("short"), null);
    assert.equal(await storage.getTask("failing"), null);
    assert.deepEqual(await storage.getOutcome("long"), { state: "completed", result: '"ok"' });
    assert.equal((await storage.getTask("waiting"))?.state, "pending");
    assert.ok((await storage.taskEvents("short")).length > 0, "events outlive the task");
  });

  it("deletes events older than the event time-to-live", async ({ storage, clock }) => {
    await storage.enqueue([newTask({ id: "a" })]);
    clock.advance(1_000);
    await storage.enqueue([newTask({ id: "b" })]);
    clock.advance(1_000);

    const report = await storage.maintain({ ...options, eventTtlMs: 2_000 });

    assert.deepEqual(report, { ...nothing, eventsDeleted: 1 });
    assert.deepEqual(await storage.taskEvents("a"), []);
    assert.deepEqual(
      (await storage.eventsSince(0, 10)).map((e) => e.taskId),
      ["b"],
    );
    assert.ok(await storage.getTask("a"), "the task itself stays");
  });
}

import assert from "node:assert/strict";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { claimRequest, completed, failed, newTasks, START } from "./builders.js";
import type { Harness } from "./harness.js";

/** The storage's settleAndClaim, which a backend with `settlesAndClaims` set must have. */
function settleAndClaimOf(storage: Storage): NonNullable<Storage["settleAndClaim"]> {
  const method = storage.settleAndClaim;
  assert.ok(method, "the backend implements settleAndClaim");
  return method.bind(storage);
}

/** Registered for backends whose fixture sets `settlesAndClaims`. */
export function settleAndClaimTests({ it }: Harness): void {
  it("settles, then claims, in one step: its events in that order, its signals once", async ({
    storage,
  }) => {
    await storage.enqueue(newTasks(2, "first"));
    const [a, b] = await storage.claim(claimRequest({ limit: 2 }));
    assert.ok(a && b);
    await storage.enqueue(newTasks(2, "next"));
    const heard: StorageSignal[] = [];
    storage.subscribe?.((signal) => heard.push(signal));
    const since = await storage.lastEventSeq();

    const answer = await settleAndClaimOf(storage)(
      [completed(a, '"a"'), completed(b, '"b"')],
      claimRequest({ limit: 5 }),
    );

    assert.deepEqual(answer.applied, [true, true]);
    assert.deepEqual(
      answer.claimed.map((task) => [task.id, task.state, task.attempts, task.token]),
      [
        ["next-0", "running", 1, 1],
        ["next-1", "running", 1, 1],
      ],
    );
    const events = await storage.eventsSince(since, 10);
    assert.deepEqual(
      events.map((event) => [event.type, event.taskId]),
      [
        ["completed", "first-0"],
        ["completed", "first-1"],
        ["executing", "next-0"],
        ["executing", "next-1"],
      ],
    );
    assert.deepEqual(heard, [
      {
        type: "finished",
        ids: ["first-0", "first-1"],
        outcomes: new Map([
          ["first-0", { state: "completed", result: '"a"' }],
          ["first-1", { state: "completed", result: '"b"' }],
        ]),
      },
    ]);
    assert.deepEqual(await storage.countTasks(), {
      default: { running: 2, completed: 2 },
    });
  });

  it("the claim sees what the settlements changed: a retry due now is taken again", async ({
    storage,
  }) => {
    await storage.enqueue(newTasks(1, "again"));
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);

    const answer = await settleAndClaimOf(storage)([failed(held, START)], claimRequest());

    assert.deepEqual(answer.applied, [true]);
    assert.deepEqual(
      answer.claimed.map((task) => [task.id, task.attempts, task.token]),
      [["again-0", 2, 2]],
    );
  });

  it("a settlement under a stale token is refused; the claim still goes ahead", async ({
    storage,
  }) => {
    await storage.enqueue(newTasks(2, "stale"));
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.ok(held);

    const answer = await settleAndClaimOf(storage)(
      [completed({ id: held.id, token: held.token + 1 })],
      claimRequest(),
    );

    assert.deepEqual(answer.applied, [false]);
    assert.equal((await storage.getTask(held.id))?.state, "running");
    assert.deepEqual(
      answer.claimed.map((task) => task.id),
      ["stale-1"],
    );
  });

  it("a claim that can take nothing still settles", async ({ storage }) => {
    await storage.enqueue(newTasks(2, "none"));
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.ok(held);

    const answer = await settleAndClaimOf(storage)([completed(held)], claimRequest({ limit: 0 }));

    assert.deepEqual(answer, { applied: [true], claimed: [] });
    assert.equal((await storage.getTask("none-1"))?.state, "pending");
  });

  it("a claim that finds nothing settles, and the next enqueue still reaches the claimer", async ({
    storage,
    another,
  }) => {
    await storage.enqueue(newTasks(1, "only"));
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);

    const answer = await settleAndClaimOf(storage)([completed(held)], claimRequest());
    assert.deepEqual(answer, { applied: [true], claimed: [] });

    // Whatever the backend keeps for a claim that found nothing (an offer
    // on Redis), the task an enqueue from elsewhere stores is claimed next.
    const other = await another();
    await other.enqueue(newTasks(1, "later"));
    let claimed: string[] = [];
    for (let tries = 0; tries < 50 && claimed.length === 0; tries++) {
      claimed = (await storage.claim(claimRequest())).map((task) => task.id);
      if (claimed.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(claimed, ["later-0"]);
    assert.equal((await storage.getTask("later-0"))?.state, "running");
  });
}

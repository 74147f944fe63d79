// The memory backend claims through heaps rather than by sorting every task.
// These tests drive it with seeded random work and check each claim against
// the plain reading of the contract: filter the due tasks, sort, take.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ClaimRequest, Storage } from "../../src/storage/contract.js";
import { MemoryStorage } from "../../src/storage/memory/index.js";
import type { TaskRecord } from "../../src/task/record.js";
import { isWaiting, type WorkerType } from "../../src/task/state.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, failed, newTask, START } from "../contract/builders.js";

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  const pick = <T>(items: readonly T[]) => items[int(0, items.length - 1)] as T;
  const subset = <T>(items: readonly T[]) => items.filter(() => next() < 0.6);
  return { next, int, pick, subset };
}

const QUEUES = ["q1", "q2", "q3"];
const WORKERS: WorkerType[] = ["async", "thread"];

/** What the contract says a claim takes, worked out from a listing of every task. */
function expectedClaim(all: readonly TaskRecord[], request: ClaimRequest, now: number): string[] {
  const position = new Map(all.map((task, i) => [task.id, i]));
  const taken: string[] = [];
  for (const queue of request.queues) {
    const due = all
      .filter((t) => t.queue === queue && isWaiting(t.state) && t.runAt <= now)
      .filter(
        (t) => (t.expiresAt === null || t.expiresAt > now) && request.workers.includes(t.worker),
      )
      .filter((t) => !taken.includes(t.id))
      .sort(
        (a, b) =>
          b.priority - a.priority ||
          a.runAt - b.runAt ||
          (position.get(a.id) ?? 0) - (position.get(b.id) ?? 0),
      );
    taken.push(...due.slice(0, request.limit - taken.length).map((t) => t.id));
  }
  return taken;
}

/** One random step that changes the store other than by claiming. */
async function disturb(storage: Storage, rng: ReturnType<typeof random>, clock: ManualClock) {
  const roll = rng.next();
  if (roll < 0.4) {
    const tasks = Array.from({ length: rng.int(1, 6) }, () =>
      newTask({
        queue: rng.pick(QUEUES),
        worker: rng.pick(WORKERS),
        priority: rng.int(-2, 2),
        runAt: clock.now() + rng.int(-50, 300),
        expiresAt: rng.next() < 0.2 ? clock.now() + rng.int(0, 400) : null,
      }),
    );
    await storage.enqueue(tasks);
  } else if (roll < 0.6) {
    clock.advance(rng.int(0, 120));
  } else {
    const waiting = (await storage.listTasks({ limit: 10_000 })).filter((t) => isWaiting(t.state));
    if (waiting.length > 0) await storage.cancel(rng.pick(waiting).id, "random");
  }
}

/** Ends each claimed task in one of the ways a worker might. */
async function finish(
  storage: Storage,
  claimed: readonly TaskRecord[],
  rng: ReturnType<typeof random>,
  now: number,
) {
  for (const task of claimed) {
    const roll = rng.next();
    if (roll < 0.3) await storage.settle([completed(task)]);
    else if (roll < 0.6) await storage.settle([failed(task, now + rng.int(0, 200))]);
    else if (roll < 0.8) await storage.release([task]);
    // else: keep holding it
  }
}

describe("memory storage: claim order", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`claims agree with a sort of the due tasks (seed ${seed})`, async () => {
      const rng = random(seed);
      const clock = new ManualClock(START);
      const storage = new MemoryStorage({ clock });

      for (let step = 0; step < 400; step += 1) {
        await disturb(storage, rng, clock);

        const request = claimRequest({
          queues: [...rng.subset(QUEUES)].sort(() => rng.next() - 0.5),
          workers: rng.subset(WORKERS),
          limit: rng.int(1, 7),
        });
        const all = await storage.listTasks({ limit: 100_000 });
        const expected = expectedClaim(all, request, clock.now());
        const claimed = await storage.claim(request);

        assert.deepEqual(
          claimed.map((t) => t.id),
          expected,
          `seed ${seed}, step ${step}`,
        );
        await finish(storage, claimed, rng, clock.now());
      }
      await storage.close();
    });
  }

  test("50,000 tasks are claimed once each, best first", async () => {
    const rng = random(42);
    const storage = new MemoryStorage({ clock: new ManualClock(START) });
    const total = 50_000;
    for (let batch = 0; batch < total / 1_000; batch += 1) {
      const tasks = Array.from({ length: 1_000 }, (_, i) =>
        newTask({ id: `t-${batch * 1_000 + i}`, priority: rng.int(0, 9) }),
      );
      await storage.enqueue(tasks);
    }

    const order: TaskRecord[] = [];
    for (;;) {
      const claimed = await storage.claim(claimRequest({ limit: 500 }));
      if (claimed.length === 0) break;
      order.push(...claimed);
    }

    assert.equal(order.length, total);
    assert.equal(new Set(order.map((t) => t.id)).size, total);
    const index = (t: TaskRecord) => Number(t.id.slice(2));
    for (let i = 1; i < order.length; i += 1) {
      const [a, b] = [order[i - 1] as TaskRecord, order[i] as TaskRecord];
      const inOrder = a.priority > b.priority || (a.priority === b.priority && index(a) < index(b));
      assert.ok(
        inOrder,
        `${a.id} (priority ${a.priority}) before ${b.id} (priority ${b.priority})`,
      );
    }
    await storage.close();
  });
});

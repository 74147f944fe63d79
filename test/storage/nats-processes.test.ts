// Several processes on one NATS store: each task is claimed and completed by
// exactly one of them, and a process killed with SIGKILL while holding a
// task loses nothing once its lease runs out.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Storage } from "../../src/storage/contract.js";
import { destroyNatsStorage, openNatsStorage } from "../../src/storage/nats/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTasks } from "../contract/builders.js";
import { killHard } from "../helpers/processes.js";
import { NATS, NATS_URL, skipUnless } from "../helpers/services.js";
import { type Drained, killJobs, messageFrom, startJob } from "./fixtures/store-jobs.js";

const skip = await skipUnless(NATS);

/** The builders date tasks in 2030; the children run on the system clock. */
const due = () => ({ runAt: Date.now(), createdAt: Date.now() });

describe("nats storage: several processes", { skip }, () => {
  let prefix = "";
  let storage: Storage;

  before(async () => {
    prefix = `procs-${randomBytes(4).toString("hex")}`;
    storage = await openNatsStorage(NATS_URL, { prefix });
  });

  after(async () => {
    killJobs();
    await storage?.close();
    await destroyNatsStorage(NATS_URL, { prefix });
  });

  test("three processes complete each of 3,000 tasks exactly once", async () => {
    const total = 3_000;
    for (let start = 0; start < total; start += 500) {
      await storage.enqueue(newTasks(500, `p${start / 500}`, due()));
    }

    // Empty twice in a row: the other processes hold or finished everything else.
    const children = [1, 2, 3].map(() =>
      startJob(`${NATS_URL}?prefix=${prefix}`, {
        job: "drain",
        queue: "default",
        limit: 10,
        waitForGo: true,
        until: { emptyClaims: 2 },
        idleMs: 50,
      }),
    );
    for (const child of children) assert.equal(await messageFrom(child), "ready");
    const answers = children.map((child) => messageFrom<Drained>(child));
    for (const child of children) child.send("go");
    const reports = await Promise.all(answers);

    const claimed = reports.flatMap((r) => r.claimed ?? []);
    const settled = reports.flatMap((r) => r.settled ?? []);
    assert.equal(claimed.length, total, "every task claimed once in all");
    assert.equal(new Set(claimed).size, total, "no task claimed twice");
    assert.deepEqual([...settled].sort(), [...claimed].sort(), "every claim completed");
    for (const report of reports) {
      assert.ok((report.settled ?? []).length > 0, "each process did some of the work");
    }
    assert.deepEqual(await storage.countTasks(), { default: { completed: total } });
  });

  test("a task held by a process killed with SIGKILL is completed by another", async () => {
    await storage.enqueue(newTasks(1, "orphan", due()));
    const child = startJob(`${NATS_URL}?prefix=${prefix}`, {
      job: "hold",
      queue: "default",
      leaseMs: 1_000,
      owner: "doomed",
    });
    const { id, token } = await messageFrom<{ id?: string; token?: number }>(child);
    assert.notEqual(id, undefined, "the child holds a task");
    assert.equal((await storage.getTask(id as string))?.leaseOwner, "doomed");

    await killHard(child);

    // A handle whose clock is past the lease: no need to wait the second out.
    const clock = new ManualClock(Date.now() + 60_000);
    const survivor = await openNatsStorage(NATS_URL, { prefix, clock });
    try {
      const report = await survivor.maintain({ maxLeaseLosses: 3, eventTtlMs: 86_400_000 });
      assert.equal(report.leasesExpired, 1);

      const [again] = await survivor.claim(claimRequest({ owner: "survivor" }));
      assert.equal(again?.id, id);
      assert.equal(again?.attempts, 2);
      assert.equal(again?.token, (token as number) + 1);
      assert.deepEqual(
        await survivor.settle([
          { id: id as string, token: again.token, outcome: "completed", result: "1" },
        ]),
        [true],
      );
      assert.equal((await survivor.getTask(id as string))?.state, "completed");
    } finally {
      await survivor.close();
    }
  });
});

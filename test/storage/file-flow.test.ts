// The files backend's new features where the contract cannot look: a store
// made before them opens and gains them, and keys and queue limits hold
// between processes, not only between handles of one process.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openFileStorage } from "../../src/storage/file/index.js";
import { Layout } from "../../src/storage/file/layout.js";
import { encodeName } from "../../src/storage/file/names.js";
import { RecordFiles } from "../../src/storage/file/records.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, newTasks, START } from "../contract/builders.js";
import {
  type ClaimStep,
  claimedIds,
  type EnqueueStep,
  killRacers,
  race,
} from "./fixtures/flow-race.js";

let dir: string;
let count = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-file-flow-"));
});

after(async () => {
  killRacers();
  await rm(dir, { recursive: true, force: true });
});

function freshRoot(): string {
  count += 1;
  return join(dir, `store-${count}`);
}

/** Three processes, each claiming (limit 5) 40 times from `queue` without settling. */
function claimers(queue: string): ClaimStep[] {
  const step: ClaimStep = {
    step: "claim",
    queue,
    limit: 5,
    leaseMs: 3_600_000,
    until: { claims: 40 },
    pauseMs: 0,
  };
  return [step, step, step];
}

describe("files backend: a store made before keys, dependencies and controls", () => {
  test("opens, reads old records with null keys and dependencies, and gains the new folders", async () => {
    const root = freshRoot();
    const url = `file://${root}`;
    const clock = new ManualClock(START);
    const first = await openFileStorage(url, { clock });
    await first.enqueue([newTask({ id: "old-1" })]);
    await first.close();

    // Make it look like a store of the release before: no new folders, no new record fields.
    for (const folder of ["locks", "controls", "blocked", "keys", "active", "rate", "schedules"]) {
      rmSync(join(root, folder), { recursive: true, force: true });
    }
    const records = new RecordFiles(new Layout(root));
    const stored = records.read(encodeName("old-1"));
    assert.ok(stored);
    const { idempotencyKey: _key, dependencies: _dependencies, ...oldTask } = stored.task;
    records.write(encodeName("old-1"), { ...stored, task: oldTask as typeof stored.task });

    const storage = await openFileStorage(url, { clock });
    try {
      const task = await storage.getTask("old-1");
      assert.equal(task?.idempotencyKey, null);
      assert.equal(task?.dependencies, null);
      assert.ok(existsSync(join(root, "locks", "keys")));

      await storage.setQueueControl("default", { paused: false, concurrency: 1, rateLimit: null });
      assert.equal((await storage.claim(claimRequest())).length, 1);
      assert.deepEqual(await storage.enqueue([newTask({ id: "new-1", idempotencyKey: "k" })]), [
        "new-1",
      ]);
      assert.deepEqual(await storage.enqueue([newTask({ id: "new-2", idempotencyKey: "k" })]), [
        "new-1",
      ]);
      assert.equal(await storage.putSchedule("s", "{}", null), 1);
    } finally {
      await storage.close();
    }
  });

  test("a concurrency limit set while tasks run counts them", async () => {
    const storage = await openFileStorage(`file://${freshRoot()}`, {
      clock: new ManualClock(START),
    });
    try {
      await storage.enqueue(newTasks(5, "run"));
      assert.equal((await storage.claim(claimRequest({ limit: 2 }))).length, 2);
      await storage.setQueueControl("default", { paused: false, concurrency: 3, rateLimit: null });
      assert.equal((await storage.claim(claimRequest({ limit: 5 }))).length, 1);
    } finally {
      await storage.close();
    }
  });

  test("a record without key and dependencies is written without the two fields", async () => {
    const root = freshRoot();
    const storage = await openFileStorage(`file://${root}`, { clock: new ManualClock(START) });
    try {
      const dependencies = { on: ["plain"], pass: "none" as const };
      await storage.enqueue([newTask({ id: "plain" }), newTask({ id: "waits", dependencies })]);
      const text = (id: string) => readFileSync(join(root, "tasks", `${id}.json`), "utf8");
      assert.ok(!text("plain").includes("idempotencyKey"));
      assert.ok(text("waits").includes('"dependencies":{"on":["plain"]'));

      const [claimed] = await storage.claim(claimRequest());
      assert.equal(claimed?.idempotencyKey, null);
      assert.equal(claimed?.dependencies, null);
      assert.deepEqual((await storage.getTask("waits"))?.dependencies, dependencies);
    } finally {
      await storage.close();
    }
  });

  test("an ended keyed task leaves no key file behind", async () => {
    const root = freshRoot();
    const storage = await openFileStorage(`file://${root}`, { clock: new ManualClock(START) });
    try {
      await storage.enqueue([newTask({ id: "keyed", idempotencyKey: "once" })]);
      assert.equal(readdirSync(join(root, "keys")).length, 1);
      assert.equal(await storage.cancel("keyed", "no"), "cancelled");
      assert.equal(readdirSync(join(root, "keys")).length, 0);
    } finally {
      await storage.close();
    }
  });
});

describe("files backend: keys and limits between processes", () => {
  test("processes enqueueing one key at once store one task", async () => {
    const url = `file://${freshRoot()}`;
    const storage = await openFileStorage(url);
    try {
      // Three processes, each enqueueing 20 tasks one at a time, all with the key "same".
      const steps = [0, 1, 2].map(
        (child): EnqueueStep => ({
          step: "enqueue",
          queue: "default",
          tasks: Array.from({ length: 20 }, (_, i) => ({ id: `k${child}-${i}`, key: "same" })),
          atOnce: 1,
        }),
      );
      const answers = (await race(url, steps)).flat();
      const counts = (await storage.countTasks()).default ?? {};
      assert.equal(counts.pending, 1);
      assert.equal(new Set(answers).size, 1);
    } finally {
      await storage.close();
    }
  });

  test("a concurrency limit holds over processes claiming at once", async () => {
    const url = `file://${freshRoot()}`;
    const storage = await openFileStorage(url);
    try {
      const now = Date.now();
      await storage.enqueue(newTasks(60, "limited", { queue: "limited", runAt: now }));
      await storage.setQueueControl("limited", { paused: false, concurrency: 4, rateLimit: null });
      const claimed = claimedIds(await race(url, claimers("limited")));
      assert.equal(claimed.length, 4);
      assert.equal(new Set(claimed).size, 4);
    } finally {
      await storage.close();
    }
  });

  test("a rate limit holds over processes claiming at once", async () => {
    const url = `file://${freshRoot()}`;
    const storage = await openFileStorage(url);
    try {
      const now = Date.now();
      await storage.enqueue(newTasks(60, "rated", { queue: "rated", runAt: now }));
      const rateLimit = { max: 7, intervalMs: 3_600_000 };
      await storage.setQueueControl("rated", { paused: false, concurrency: null, rateLimit });
      const claimed = claimedIds(await race(url, claimers("rated")));
      // Unless the hour turned during the test, which would allow one more window.
      assert.ok(claimed.length === 7 || claimed.length === 14, `claimed ${claimed.length}`);
      assert.equal(new Set(claimed).size, claimed.length);
    } finally {
      await storage.close();
    }
  });
});

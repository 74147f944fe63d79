// Several processes on one files store: no task runs twice, a worker killed
// with kill -9 (holding a lease, or at any point of its claim and settle
// loop) loses nothing, and signals cross from one process to another.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { openFileStorage } from "../../src/storage/file/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { newTask } from "../contract/builders.js";
import { killHard } from "../helpers/processes.js";
import { killJobs, messageFrom, startJob } from "./fixtures/store-jobs.js";

const HOUR = 3_600_000;

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-file-processes-"));
});

after(async () => {
  killJobs();
  await rm(dir, { recursive: true, force: true });
});

/** Tasks due now by the system clock, as the children's clocks read it. */
function dueNow(count: number, prefix: string, queue: string) {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) =>
    newTask({ id: `${prefix}-${i}`, queue, runAt: now, createdAt: now, resultTtlMs: HOUR }),
  );
}

/** Claims and completes everything due in `queue` through `storage`; answers the ids. */
async function drainHere(storage: Storage, queue: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const claimed = await storage.claim({
      queues: [queue],
      workers: ["async"],
      limit: 50,
      owner: "parent",
      leaseMs: HOUR,
    });
    if (claimed.length === 0) return ids;
    const applied = await storage.settle(
      claimed.map((t) => ({ id: t.id, token: t.token, outcome: "completed", result: "0" })),
    );
    assert.ok(applied.every(Boolean));
    ids.push(...claimed.map((t) => t.id));
  }
}

/** Nothing a dead process held is left behind once maintenance ran. */
function assertNothingHeld(root: string): void {
  assert.deepEqual(readdirSync(join(root, "busy")), [], "no marker left held");
  assert.deepEqual(readdirSync(join(root, "staging")), [], "no enqueue left half done");
  assert.deepEqual(
    readdirSync(join(root, "meta")).filter((name) => name.includes("@")),
    [],
    "the event lock is free",
  );
}

describe("file: several processes on one store", () => {
  test("3 processes draining 3,000 tasks run each exactly once", { timeout: 120_000 }, async () => {
    const root = join(dir, "drain");
    const url = `file://${root}`;
    const producer = await openFileStorage(url);
    const logs = [0, 1, 2].map((i) => join(dir, `drain-${i}.log`));
    const drainers = logs.map((log) =>
      startJob(url, {
        job: "drain",
        queue: "shared",
        limit: 7,
        waitForGo: true,
        until: "nothing waits",
        log,
      }),
    );
    await Promise.all(drainers.map((child) => messageFrom(child, (m) => m === "ready")));
    for (let batch = 0; batch < 30; batch++)
      await producer.enqueue(dueNow(100, `t${batch}`, "shared"));

    // All start at once, so they compete for the same tasks.
    for (const child of drainers) child.send("go");
    await Promise.all(drainers.map((child) => messageFrom(child, (m) => typeof m === "object")));

    const runs = await Promise.all(
      logs.map(async (log) => (await readFile(log, "utf8")).split("\n")),
    );
    const ids = runs.map((lines) => lines.filter(Boolean).map((line) => line.split(" ")[0]));
    const all = ids.flat();
    assert.equal(all.length, 3_000, "3,000 runs in all");
    assert.equal(new Set(all).size, 3_000, "no task ran twice");
    assert.ok(
      ids.every((own) => own.length > 0),
      `every process ran some: ${ids.map((own) => own.length)}`,
    );
    assert.deepEqual(await producer.countTasks(), { shared: { completed: 3_000 } });
    assertNothingHeld(root);
    await producer.close();
  });

  test("a worker killed with kill -9 loses its task only until its lease runs out", async () => {
    const root = join(dir, "kill");
    const url = `file://${root}`;
    const clock = new ManualClock(Date.now());
    const storage = await openFileStorage(url, { clock });
    await storage.enqueue(dueNow(1, "doomed", "doomed"));

    const child = startJob(url, { job: "hold", queue: "doomed", leaseMs: 5_000 });
    const held = await messageFrom<{ id: string; token: number }>(child);
    assert.equal(held.id, "doomed-0");
    await killHard(child);

    // Before the lease runs out the task stays with the dead worker.
    assert.equal(
      (await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: HOUR })).leasesExpired,
      0,
    );
    assert.deepEqual(await drainHere(storage, "doomed"), []);

    clock.set(Date.now() + 5_000);
    const report = await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: HOUR });
    assert.equal(report.leasesExpired, 1);

    const other = await openFileStorage(url, { clock });
    assert.deepEqual(await drainHere(other, "doomed"), ["doomed-0"]);
    const record = await other.getTask("doomed-0");
    assert.equal(record?.state, "completed");
    assert.equal(record?.attempts, 2);
    assert.equal(record?.leaseLosses, 1);
    await other.close();
    await storage.close();
  });

  test("workers killed at any point of their claim and settle loop lose no task", {
    timeout: 120_000,
  }, async () => {
    const root = join(dir, "churn");
    const url = `file://${root}`;
    const clock = new ManualClock(Date.now());
    const storage = await openFileStorage(url, { clock });
    for (let batch = 0; batch < 6; batch++)
      await storage.enqueue(dueNow(200, `c${batch}`, "churn"));

    // Each worker is killed after a few rounds, wherever it happens to be.
    for (const rounds of [3, 11, 29]) {
      const child = startJob(url, { job: "churn", queue: "churn", limit: 5, leaseMs: 60_000 });
      await messageFrom(child, (m) => m === "ready");
      let seen = 0;
      await messageFrom<{ done: number }>(child, () => ++seen >= rounds);
      await killHard(child);
      await sleep(Math.random() * 5);
    }

    // Every lease the dead workers held runs out; the rest is drained here.
    clock.set(Date.now() + 120_000);
    await storage.maintain({ maxLeaseLosses: 10, eventTtlMs: HOUR });
    await drainHere(storage, "churn");

    assert.deepEqual(await storage.countTasks(), { churn: { completed: 1_200 } });
    assertNothingHeld(root);
    await storage.close();
  });

  test("an enqueue killed part way leaves all of its batch or none", {
    timeout: 120_000,
  }, async () => {
    const root = join(dir, "flood");
    const url = `file://${root}`;
    const storage = await openFileStorage(url);

    // Killed at whatever point the next batch has reached, a few times over.
    for (const batches of [1, 2, 4]) {
      const child = startJob(url, { job: "flood", queue: "flood", size: 300 });
      await messageFrom(child, (m) => m === "ready");
      let seen = 0;
      await messageFrom<{ batch: number }>(child, () => ++seen >= batches);
      await sleep(Math.random() * 20);
      await killHard(child);
    }
    await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: HOUR });

    // Ids are p<pid>b<batch>-<index>: count the tasks stored of each batch.
    const perBatch = new Map<string, number>();
    for (const task of await storage.listTasks({ limit: 100_000 })) {
      const batch = task.id.split("-")[0] as string;
      perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
    }
    assert.ok(perBatch.size >= 3, `some batches were stored: ${perBatch.size}`);
    for (const [batch, count] of perBatch) assert.equal(count, 300, `batch ${batch} is whole`);

    const stored = [...perBatch.values()].reduce((a, b) => a + b, 0);
    assert.equal(
      (await drainHere(storage, "flood")).length,
      stored,
      "every stored task is claimable",
    );
    assertNothingHeld(root);
    await storage.close();
  });

  test("signals cross from one process to another", async () => {
    const url = `file://${join(dir, "signals")}`;
    const storage = await openFileStorage(url);
    const heard: StorageSignal[] = [];
    assert.ok(storage.subscribe);
    const stop = storage.subscribe((signal) => heard.push(signal));
    const until = async (match: (s: StorageSignal) => boolean) => {
      for (let waited = 0; !heard.some(match); waited += 5) {
        assert.ok(waited < 10_000, `no matching signal; heard ${JSON.stringify(heard)}`);
        await sleep(5);
      }
    };

    const child = startJob(url, { job: "produce", queue: "cross", id: "crossing" });
    await messageFrom(child, (m) => m === "enqueued");
    await until((s) => s.type === "ready" && s.queue === "cross");

    child.send("complete");
    await messageFrom(child, (m) => m === "completed");
    await until((s) => s.type === "finished" && s.ids.includes("crossing"));

    stop();
    await storage.close();
  });
});

// The SQLite backend writes a claim, the completions of a settle and the
// getOutcome calls of one turn as one statement each: what those batches
// must keep of the one-task-at-a-time behaviour beyond the shared contract.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { ManualClock } from "../../src/util/clock.js";
import {
  claimRequest,
  completed,
  errorInfo,
  failed,
  newTask,
  newTasks,
  START,
} from "../contract/builders.js";

let dir: string;
let files = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-sqlite-batches-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(watch = false): Promise<Storage> {
  files += 1;
  const url = `sqlite://${join(dir, `db-${files}.db`)}`;
  return openSqliteStorage(url, { clock: new ManualClock(START), watch });
}

/** Enqueues `count` tasks `${prefix}-0` … and claims them all. */
async function holdMany(storage: Storage, count: number, prefix = "t") {
  await storage.enqueue(newTasks(count, prefix));
  const held = await storage.claim(claimRequest({ limit: count }));
  assert.equal(held.length, count);
  return held;
}

describe("sqlite batch claims", () => {
  test("a claim's executing events follow claim order, one per task", async () => {
    const storage = await open();
    await storage.enqueue([
      newTask({ id: "low", priority: 0 }),
      newTask({ id: "high", priority: 5 }),
      newTask({ id: "mid", priority: 2 }),
    ]);
    const before = await storage.lastEventSeq();

    const held = await storage.claim(claimRequest());
    const events = await storage.eventsSince(before, 10);

    assert.deepEqual(
      held.map((task) => task.id),
      ["high", "mid", "low"],
    );
    assert.deepEqual(
      events.map((event) => [event.type, event.taskId, event.attempt]),
      [
        ["executing", "high", 1],
        ["executing", "mid", 1],
        ["executing", "low", 1],
      ],
    );
    await storage.close();
  });

  test("the claimed record equals the stored one", async () => {
    const storage = await open();
    const backoff = { type: "fixed", delayMs: 5 } as const;
    await storage.enqueue([newTask({ id: "a", backoff, timeoutMs: 9, module: "m.js" })]);

    const [held] = await storage.claim(claimRequest());
    assert.deepEqual(held, await storage.getTask("a"));

    // Each record owns its backoff, though tasks share the stored text.
    await storage.enqueue([newTask({ id: "b", backoff })]);
    const [other] = await storage.claim(claimRequest());
    assert.ok(held?.backoff && other?.backoff);
    assert.notEqual(held.backoff, other.backoff);
    await storage.close();
  });
});

describe("sqlite batch settles", () => {
  test("stores each result exactly as given", async () => {
    const storage = await open();
    const results = [
      '"plain"',
      '"quote \\" and \\\\ backslash"',
      '"é😀\\u2028"',
      "a\u0000b",
      "x".repeat(100_000),
    ];
    const held = await holdMany(storage, results.length);

    const applied = await storage.settle(held.map((task, i) => completed(task, results[i])));

    assert.deepEqual(
      applied,
      results.map(() => true),
    );
    for (const [i, task] of held.entries()) {
      assert.deepEqual(await storage.getOutcome(task.id), {
        state: "completed",
        result: results[i],
      });
    }
    await storage.close();
  });

  test("with stale tokens among them, only the held tasks change, signal and get events", async () => {
    const storage = await open();
    const [a, b, c] = await holdMany(storage, 3);
    assert.ok(a && b && c);
    const heard: StorageSignal[] = [];
    storage.subscribe?.((signal) => heard.push(signal));
    const before = await storage.lastEventSeq();

    const applied = await storage.settle([
      completed(a),
      completed({ id: b.id, token: b.token + 1 }),
      completed(c, '"c"'),
    ]);

    assert.deepEqual(applied, [true, false, true]);
    assert.equal((await storage.getTask(b.id))?.state, "running");
    const events = await storage.eventsSince(before, 10);
    assert.deepEqual(
      events.map((event) => [event.type, event.taskId]),
      [
        ["completed", a.id],
        ["completed", c.id],
      ],
    );
    assert.deepEqual(heard, [
      {
        type: "finished",
        ids: [a.id, c.id],
        outcomes: new Map([
          [a.id, { state: "completed", result: '"ok"' }],
          [c.id, { state: "completed", result: '"c"' }],
        ]),
      },
    ]);
    await storage.close();
  });

  test("a task named twice in one batch settles once, the first settlement winning", async () => {
    const storage = await open();
    const [a, b] = await holdMany(storage, 2);
    assert.ok(a && b);

    const applied = await storage.settle([
      failed(a, null, errorInfo("first")),
      completed(a),
      completed(b, '"b1"'),
      completed(b, '"b2"'),
    ]);

    assert.deepEqual(applied, [true, false, true, false]);
    assert.deepEqual(await storage.getOutcome(a.id), {
      state: "failed",
      error: errorInfo("first"),
    });
    assert.deepEqual(await storage.getOutcome(b.id), { state: "completed", result: '"b1"' });
    await storage.close();
  });

  test("completions and failures in one batch each take their own path", async () => {
    const storage = await open();
    const [a, b, c] = await holdMany(storage, 3);
    assert.ok(a && b && c);

    const applied = await storage.settle([completed(a), failed(b, START + 1_000), completed(c)]);

    assert.deepEqual(applied, [true, true, true]);
    assert.equal((await storage.getTask(a.id))?.state, "completed");
    assert.equal((await storage.getTask(b.id))?.state, "retrying");
    assert.equal((await storage.getTask(c.id))?.state, "completed");
    await storage.close();
  });

  test("events written in batches are known as this process's own", async () => {
    const storage = await open(true);
    const heard: StorageSignal[] = [];
    storage.subscribe?.((signal) => heard.push(signal));

    const held = await holdMany(storage, 20);
    await storage.settle(held.map((task) => completed(task)));
    await new Promise((done) => setTimeout(done, 100));

    // Only the direct signals: the WAL watcher skipped every own event.
    assert.deepEqual(
      heard.map((signal) => signal.type),
      ["ready", "finished"],
    );
    await storage.close();
  });
});

describe("sqlite getOutcome batches", () => {
  test("many calls in one turn each get their own answer", async () => {
    const storage = await open();
    await storage.enqueue(newTasks(2_500, "o"));
    await storage.settle(
      await storage
        .claim(claimRequest({ limit: 1 }))
        .then((held) => held.map((task) => completed(task))),
    );
    const ids = Array.from({ length: 2_500 }, (_, i) => `o-${i}`);
    ids.push("unknown", "o-0");

    const outcomes = await Promise.all(ids.map((id) => storage.getOutcome(id)));

    assert.deepEqual(outcomes[0], { state: "completed", result: '"ok"' });
    assert.equal(outcomes.filter((o) => o?.state === "pending").length, 2_499);
    assert.equal(outcomes.at(-2), null);
    assert.deepEqual(outcomes.at(-1), outcomes[0]);
    await storage.close();
  });

  test("a call made before close is answered; one after close is refused", async () => {
    const storage = await open();
    await storage.enqueue([newTask({ id: "a" })]);

    const asked = storage.getOutcome("a");
    await storage.close();

    assert.deepEqual(await asked, { state: "pending" });
    await assert.rejects(storage.getOutcome("a"), /closed/);
  });
});

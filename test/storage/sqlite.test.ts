// What the SQLite backend does beyond the shared contract: its URLs, opening
// and migrating files, the claim index, and its signal channel.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { DuplicateTaskError, InvalidArgumentError, StorageError } from "../../src/errors.js";
import type { StorageSignal } from "../../src/storage/contract.js";
import { openSqliteStorage, sqlitePathFromUrl } from "../../src/storage/sqlite/index.js";
import { configureConnection, migrate, SCHEMA_VERSION } from "../../src/storage/sqlite/schema.js";
import { Statements } from "../../src/storage/sqlite/statements.js";
import { runningWatchers } from "../../src/storage/sqlite/watch.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, newTask, newTasks, START } from "../contract/builders.js";

let dir: string;
let files = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-sqlite-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A URL for a new database file in the test folder. */
function freshUrl(): string {
  files += 1;
  return `sqlite://${join(dir, `db-${files}.db`)}`;
}

describe("sqlite URLs", () => {
  test("absolute, ./relative and bare relative paths", () => {
    assert.equal(sqlitePathFromUrl("sqlite:///var/lib/omniq.db"), "/var/lib/omniq.db");
    assert.equal(sqlitePathFromUrl("sqlite://./data/omniq.db"), resolve("data/omniq.db"));
    assert.equal(sqlitePathFromUrl("sqlite://omniq.db"), resolve("omniq.db"));
    assert.equal(sqlitePathFromUrl("sqlite:///tmp/my%20queue.db"), "/tmp/my queue.db");
  });

  test("refuses URLs that name no file, or carry a query", () => {
    for (const url of [
      "sqlite://",
      "sqlite:///",
      "sqlite:///tmp/",
      "sqlite:///x.db?mode=ro",
      "memory://",
    ]) {
      assert.throws(() => sqlitePathFromUrl(url), InvalidArgumentError, url);
    }
  });
});

describe("opening a sqlite file", () => {
  test("creates missing parent folders", async () => {
    const path = join(dir, "deep", "er", "omniq.db");
    const storage = await openSqliteStorage(`sqlite://${path}`);
    await storage.enqueue([newTask({ id: "a" })]);
    assert.equal((await storage.getTask("a"))?.id, "a");
    await storage.close();
  });

  test("a file that cannot be opened gives a StorageError naming the path", async () => {
    const folder = join(dir, "a-folder.db");
    await mkdir(folder);
    await assert.rejects(openSqliteStorage(`sqlite://${folder}`), (error: Error) => {
      assert.ok(error instanceof StorageError);
      assert.match(error.message, new RegExp(folder));
      return true;
    });

    const garbage = join(dir, "garbage.db");
    await writeFile(
      garbage,
      "this is not a database, only some text that is long enough ".repeat(20),
    );
    await assert.rejects(openSqliteStorage(`sqlite://${garbage}`), (error: Error) => {
      assert.ok(error instanceof StorageError);
      assert.match(error.message, /garbage\.db/);
      return true;
    });
  });

  test("a new file gets the schema; reopening keeps the data and migrates nothing", async () => {
    const url = freshUrl();
    const clock = new ManualClock(START);
    const first = await openSqliteStorage(url, { clock });
    const second = await openSqliteStorage(url, { clock });
    await first.enqueue([newTask({ id: "kept" })]);
    await first.close();
    await second.close();

    const path = sqlitePathFromUrl(url);
    const db = new Database(path);
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    db.close();

    const again = await openSqliteStorage(url, { clock });
    assert.equal((await again.getTask("kept"))?.state, "pending");
    assert.deepEqual(
      (await again.taskEvents("kept")).map((e) => e.type),
      ["enqueued"],
    );
    await again.close();
  });

  test("a file from a newer omniq is refused with a StorageError", async () => {
    const url = freshUrl();
    const path = sqlitePathFromUrl(url);
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();

    await assert.rejects(openSqliteStorage(url), (error: Error) => {
      assert.ok(error instanceof StorageError);
      assert.match(error.message, /newer/);
      assert.match(error.message, new RegExp(path));
      return true;
    });
  });

  test("a closed handle refuses calls with a StorageError", async () => {
    const storage = await openSqliteStorage(freshUrl());
    await storage.close();
    await assert.rejects(storage.getTask("x"), StorageError);
    await assert.rejects(storage.enqueue([newTask()]), StorageError);
  });

  test("a duplicate id rejects the batch with a DuplicateTaskError naming it", async () => {
    const storage = await openSqliteStorage(freshUrl());
    await storage.enqueue([newTask({ id: "one" })]);

    await assert.rejects(
      storage.enqueue([newTask({ id: "two" }), newTask({ id: "one" })]),
      (error: Error) => error instanceof DuplicateTaskError && error.taskId === "one",
    );
    await assert.rejects(
      storage.enqueue([newTask({ id: "three" }), newTask({ id: "three" })]),
      (error: Error) => error instanceof DuplicateTaskError && error.taskId === "three",
    );
    assert.equal(await storage.getTask("two"), null);
    assert.equal(await storage.getTask("three"), null);
    await storage.close();
  });
});

describe("sqlite claim index", () => {
  function plan(sql: string, ...params: unknown[]): string {
    const db = new Database(":memory:");
    migrate(db);
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    db.close();
    return rows.map((row) => row.detail).join("\n");
  }

  test("a claim reads the ready index in claim order, without sorting", () => {
    const db = new Database(":memory:");
    configureConnection(db);
    migrate(db);
    const sql = new Statements(db).candidates.source;
    db.close();

    const detail = plan(sql, "q", "async", 1, 1, 10);
    assert.match(detail, /USING INDEX omniq_tasks_ready/);
    assert.doesNotMatch(detail, /TEMP B-TREE/);
  });

  test("no statement binds a bare LIMIT, which SQLite prepares again at every call", () => {
    const db = new Database(":memory:");
    migrate(db);
    const statements = Object.values(new Statements(db)) as { source: string }[];
    db.close();

    assert.ok(statements.length > 20);
    for (const { source } of statements) assert.doesNotMatch(source, /LIMIT \?\s*($|\)|OFFSET)/);
  });

  test("tasks scheduled for later stay out of the ready index until due", async () => {
    const clock = new ManualClock(START);
    const url = freshUrl();
    const storage = await openSqliteStorage(url, { clock });
    await storage.enqueue(newTasks(500, "later", { runAt: START + 60_000 }));
    await storage.enqueue([newTask({ id: "now" })]);

    const db = new Database(sqlitePathFromUrl(url));
    const ready = () => db.prepare("SELECT COUNT(*) FROM omniq_tasks WHERE lane = 1").pluck().get();
    assert.equal(ready(), 1);

    assert.deepEqual(
      (await storage.claim(claimRequest({ limit: 10 }))).map((t) => t.id),
      ["now"],
    );
    clock.advance(60_000);
    assert.equal((await storage.claim(claimRequest({ limit: 1_000 }))).length, 500);
    assert.equal(ready(), 0);
    db.close();
    await storage.close();
  });
});

describe("sqlite signals", () => {
  /** Gives fs.watch and the watcher's gathering timer time to act, on real time. */
  const settleDown = () => new Promise((done) => setTimeout(done, 100));

  test("handles on one file share signals; a closed handle's listeners stop", async () => {
    const url = freshUrl();
    const producer = await openSqliteStorage(url, { watch: false });
    const worker = await openSqliteStorage(
      `sqlite://${sqlitePathFromUrl(url).replace(dir, `${dir}/.`)}`,
      {
        watch: false,
      },
    );
    const heard: StorageSignal[] = [];
    worker.subscribe?.((signal) => heard.push(signal));

    // Delivered before enqueue resolves: no timer, no poll in between.
    await producer.enqueue([newTask({ id: "a", queue: "q" })]);
    assert.deepEqual(heard, [{ type: "ready", queue: "q" }]);

    await worker.close();
    await producer.enqueue([newTask({ id: "b", queue: "q" })]);
    assert.equal(heard.length, 1);
    await producer.close();
  });

  test("a listener that throws costs neither the write nor the other listeners", async () => {
    const storage = await openSqliteStorage(freshUrl(), { watch: false });
    const heard: StorageSignal[] = [];
    storage.subscribe?.(() => {
      throw new Error("listener bug");
    });
    storage.subscribe?.((signal) => heard.push(signal));

    await storage.enqueue([newTask({ id: "a", queue: "q" })]);
    assert.equal((await storage.getTask("a"))?.id, "a");
    assert.deepEqual(heard, [{ type: "ready", queue: "q" }]);
    await storage.close();
  });

  test("the WAL watcher signals another connection's writes, not this process's own", async () => {
    const url = freshUrl();
    const clock = new ManualClock(START);
    const storage = await openSqliteStorage(url, { clock });
    const heard: StorageSignal[] = [];
    storage.subscribe?.((signal) => heard.push(signal));
    assert.equal(runningWatchers(), 1);

    await storage.enqueue([newTask({ id: "mine", queue: "own" })]);
    const [held] = await storage.claim(claimRequest({ queues: ["own"] }));
    assert.ok(held);
    await storage.settle([completed(held)]);
    await settleDown();
    assert.deepEqual(heard, [
      { type: "ready", queue: "own" },
      {
        type: "finished",
        ids: ["mine"],
        outcomes: new Map([["mine", { state: "completed", result: '"ok"' }]]),
      },
    ]);

    // A connection that is not omniq's, as another process would write.
    const foreign = new Database(sqlitePathFromUrl(url));
    foreign
      .prepare(
        `INSERT INTO omniq_events (task_seq, task_id, type, at, queue, name, attempt)
         VALUES (0, 'theirs', 'enqueued', 0, 'elsewhere', 'x', 0),
                (0, 'done', 'completed', 0, 'elsewhere', 'x', 1)`,
      )
      .run();
    foreign.close();
    await settleDown();
    assert.deepEqual(heard.slice(2), [
      { type: "ready", queue: "elsewhere" },
      { type: "finished", ids: ["done"] },
    ]);

    await storage.close();
    assert.equal(runningWatchers(), 0);
  });

  test("the watcher stops when the last watching listener leaves", async () => {
    const url = freshUrl();
    const one = await openSqliteStorage(url);
    const two = await openSqliteStorage(url);
    const stopOne = one.subscribe?.(() => {});
    const stopTwo = two.subscribe?.(() => {});
    assert.equal(runningWatchers(), 1, "one watcher per file and process");

    stopOne?.();
    stopOne?.();
    assert.equal(runningWatchers(), 1);
    stopTwo?.();
    assert.equal(runningWatchers(), 0);

    await one.close();
    await two.close();
  });
});

describe("sqlite events", () => {
  test("a deleted task's events stay readable until their own time-to-live", async () => {
    const clock = new ManualClock(START);
    const storage = await openSqliteStorage(freshUrl(), { clock });
    await storage.enqueue([newTask({ id: "short", resultTtlMs: 1_000 })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    await storage.settle([completed(held)]);

    clock.advance(1_000);
    const report = await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 60_000 });
    assert.equal(report.resultsDeleted, 1);
    assert.equal(await storage.getTask("short"), null);
    assert.deepEqual(
      (await storage.taskEvents("short")).map((e) => e.type),
      ["enqueued", "executing", "completed"],
    );
    await storage.close();
  });

  test("event seqs never go back, even after every event was deleted", async () => {
    const clock = new ManualClock(START);
    const storage = await openSqliteStorage(freshUrl(), { clock });
    await storage.enqueue(newTasks(3, "old"));
    const before = await storage.lastEventSeq();

    clock.advance(10_000);
    const report = await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 1_000 });
    assert.equal(report.eventsDeleted, 3);
    assert.equal(await storage.lastEventSeq(), 0);

    await storage.enqueue([newTask({ id: "new" })]);
    const [event] = await storage.eventsSince(before, 10);
    assert.equal(event?.taskId, "new");
    assert.ok((event?.seq ?? 0) > before);
    await storage.close();
  });
});

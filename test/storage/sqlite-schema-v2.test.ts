// Schema version 2 of the SQLite backend: a file an older omniq left (version
// 1) is migrated in place with its tasks intact, the statements the new
// features add read the indexes they were made for, and the table of keys
// keeps no row of a task that is gone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { migrate, SCHEMA_VERSION } from "../../src/storage/sqlite/schema.js";
import { Statements } from "../../src/storage/sqlite/statements.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, errorInfo, newTask, START } from "../contract/builders.js";
import { tempDir } from "../helpers/temp.js";

const dir = tempDir();
after(() => dir.remove());

let files = 0;
function freshPath(): string {
  files += 1;
  return join(dir.path, `schema-${files}.db`);
}

/** A file as omniq with schema version 1 left it: one waiting and one completed task. */
function versionOneFile(path: string): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  migrate(db, 1);
  const insert = db.prepare(
    `INSERT INTO omniq_tasks (id, name, queue, priority, payload, run_at, created_at,
       max_attempts, result_ttl_ms, worker, state, lane, finished_at, result, purge_at)
     VALUES (?, 'old.task', 'default', 0, '[]', ?, ?, 1, 60000, 'async', ?, ?, ?, ?, ?)`,
  );
  insert.run("waiting", START, START, "pending", 1, null, null, null);
  insert.run("done", START, START, "completed", null, START, '"kept"', START + 60_000);
  db.close();
}

describe("sqlite schema version 2", () => {
  test("a version 1 file is migrated in place, its tasks kept with no key and no dependencies", async () => {
    const path = freshPath();
    versionOneFile(path);

    const clock = new ManualClock(START);
    const storage = await openSqliteStorage(`sqlite://${path}`, { clock });
    const waiting = await storage.getTask("waiting");
    assert.equal(waiting?.state, "pending");
    assert.equal(waiting?.idempotencyKey, null);
    assert.equal(waiting?.dependencies, null);
    assert.deepEqual(await storage.getOutcome("done"), { state: "completed", result: '"kept"' });

    // What version 2 adds works on the migrated file.
    assert.deepEqual(
      await storage.enqueue([
        newTask({ id: "keyed", idempotencyKey: "k" }),
        newTask({ id: "again", idempotencyKey: "k" }),
      ]),
      ["keyed", "keyed"],
    );
    await storage.setQueueControl("default", { paused: false, concurrency: 1, rateLimit: null });
    assert.deepEqual(
      (await storage.claim(claimRequest())).map((task) => task.id),
      ["waiting"],
    );
    assert.equal(await storage.putSchedule("s", "{}", null), 1);
    await storage.close();

    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    db.close();
  });

  test("a key and the blocked tasks are read through their indexes", () => {
    const db = new Database(":memory:");
    migrate(db);
    const plan = (sql: string, ...params: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
        .map((row) => row.detail)
        .join("\n");

    const keyHolder = new Statements(db).keyHolder.source;
    assert.match(plan(keyHolder, "k"), /SEARCH k USING PRIMARY KEY \(key=\?\)/);
    // As listTasks({ state: "blocked" }) asks.
    assert.match(
      plan(
        "SELECT * FROM omniq_tasks WHERE blocked = 1 AND state = 'blocked' ORDER BY seq LIMIT ? + 0 OFFSET ?",
        1,
        0,
      ),
      /USING INDEX omniq_tasks_blocked/,
    );
    db.close();
  });

  test("a key goes with the task that held it, and a requeued task gives its key up", async () => {
    const url = `sqlite://${freshPath()}`;
    const clock = new ManualClock(START);
    const storage = await openSqliteStorage(url, { clock });
    await storage.enqueue([newTask({ id: "holder", idempotencyKey: "k", resultTtlMs: 1_000 })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    await storage.settle([
      { id: "holder", token: held.token, outcome: "failed", error: errorInfo(), retryAt: null },
    ]);

    assert.equal(await storage.requeue("holder"), "requeued");
    assert.deepEqual(await storage.enqueue([newTask({ id: "next", idempotencyKey: "k" })]), [
      "next",
    ]);

    await storage.cancel("next", "done with it");
    clock.advance(120_000);
    await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 3_600_000 });
    const db = new Database(url.slice("sqlite://".length), { readonly: true });
    assert.equal(db.prepare("SELECT COUNT(*) FROM omniq_task_keys").pluck().get(), 0);
    db.close();
    await storage.close();
  });
});

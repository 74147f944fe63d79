// settleAndClaim on SQLite: a worker's settlements and its next claim in one
// transaction. What it must keep of the two separate calls it replaces.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { StorageError } from "../../src/errors.js";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, failed, newTasks, START } from "../contract/builders.js";

let dir: string;
let files = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-sqlite-settle-claim-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<{ storage: Storage; path: string }> {
  files += 1;
  const path = join(dir, `db-${files}.db`);
  const storage = await openSqliteStorage(`sqlite://${path}`, {
    clock: new ManualClock(START),
    watch: false,
  });
  return { storage, path };
}

/** The storage's settleAndClaim, which the SQLite backend must have. */
function settleAndClaimOf(storage: Storage): NonNullable<Storage["settleAndClaim"]> {
  const method = storage.settleAndClaim;
  assert.ok(method, "the SQLite backend implements settleAndClaim");
  return method.bind(storage);
}

describe("sqlite settleAndClaim", () => {
  test("settles, then claims, in one transaction: its events in that order, its signals once", async () => {
    const { storage } = await open();
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
    await storage.close();
  });

  test("the claim sees what the settlements changed: a retry due now is taken again", async () => {
    const { storage } = await open();
    await storage.enqueue(newTasks(1, "again"));
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);

    const answer = await settleAndClaimOf(storage)([failed(held, START)], claimRequest());

    assert.deepEqual(answer.applied, [true]);
    assert.deepEqual(
      answer.claimed.map((task) => [task.id, task.attempts, task.token]),
      [["again-0", 2, 2]],
    );
    await storage.close();
  });

  test("a settlement under a stale token is refused; the claim still goes ahead", async () => {
    const { storage } = await open();
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
    await storage.close();
  });

  test("a claim that can take nothing still settles", async () => {
    const { storage } = await open();
    await storage.enqueue(newTasks(2, "none"));
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.ok(held);

    const answer = await settleAndClaimOf(storage)([completed(held)], claimRequest({ limit: 0 }));

    assert.deepEqual(answer, { applied: [true], claimed: [] });
    assert.equal((await storage.getTask("none-1"))?.state, "pending");
    await storage.close();
  });

  test("all or nothing: when the claim fails, the settlements are not written either", async () => {
    const { storage, path } = await open();
    await storage.enqueue(newTasks(2, "atomic"));
    const [held] = await storage.claim(claimRequest({ limit: 1 }));
    assert.ok(held);
    const since = await storage.lastEventSeq();

    // Another connection makes every claim fail, as a full disk or a broken file would.
    const other = new Database(path);
    other.exec(`CREATE TRIGGER refuse_claims BEFORE INSERT ON omniq_events
      WHEN NEW.type = 'executing' BEGIN SELECT RAISE(ABORT, 'no claims today'); END`);
    try {
      await assert.rejects(
        settleAndClaimOf(storage)([completed(held)], claimRequest()),
        (error: unknown) =>
          error instanceof StorageError &&
          /settleAndClaim failed.*no claims today/.test(error.message),
      );

      const record = await storage.getTask(held.id);
      assert.equal(record?.state, "running");
      assert.equal(record?.token, held.token);
      assert.equal((await storage.getTask("atomic-1"))?.state, "pending");
      assert.deepEqual(await storage.eventsSince(since, 10), []);
    } finally {
      other.exec("DROP TRIGGER refuse_claims");
      other.close();
    }

    // With the claim possible again, the same call goes through.
    const answer = await settleAndClaimOf(storage)([completed(held)], claimRequest());
    assert.deepEqual(answer.applied, [true]);
    assert.deepEqual(
      answer.claimed.map((task) => task.id),
      ["atomic-1"],
    );
    await storage.close();
  });
});

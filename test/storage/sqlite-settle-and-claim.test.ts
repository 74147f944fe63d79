// settleAndClaim on SQLite: a worker's settlements and its next claim in one
// transaction. What every backend's version must do is in the contract suite
// (test/contract/settle-and-claim.ts); this is what only a transaction gives.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { StorageError } from "../../src/errors.js";
import type { Storage } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, newTasks, START } from "../contract/builders.js";

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

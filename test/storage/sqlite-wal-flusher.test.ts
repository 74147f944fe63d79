// The WAL flusher writes a database file's WAL through to disk in the
// background. What must hold: it opens the WAL only when there is something
// to flush, keeps one handle, and lets go of it when the last handle of the
// process on the file closes. Open files are read from /proc (Linux).
import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { WalFlusher } from "../../src/storage/sqlite/wal-flusher.js";
import { ManualClock } from "../../src/util/clock.js";
import { newTasks, START } from "../contract/builders.js";

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-sqlite-flusher-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** How many file handles of this process are open on `path`. */
function handlesOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count += 1;
    } catch {
      // Closed between the listing and the look.
    }
  }
  return count;
}

const turn = () => new Promise((resolve) => setTimeout(resolve, 30));

describe("sqlite WAL flusher", () => {
  test("opens the WAL at the first write, keeps one handle, and closes it", async () => {
    const path = join(dir, "flushed.db");
    const storage = await openSqliteStorage(`sqlite://${path}`, {
      clock: new ManualClock(START),
      watch: false,
    });
    const wal = `${path}-wal`;
    const sqliteOwn = handlesOn(wal);

    for (let i = 0; i < 20; i++) {
      await storage.enqueue(newTasks(10, `batch-${i}`));
      await turn();
    }
    assert.equal(handlesOn(wal), sqliteOwn + 1, "one handle of the flusher's own beside SQLite's");
    assert.equal((await storage.countTasks()).default?.pending, 200);

    await storage.close();
    await turn();
    assert.equal(handlesOn(wal), 0);
  });

  test("closed while a flush runs, it lets go of the file once the flush is over", async () => {
    const path = join(dir, "closing.db");
    const storage = await openSqliteStorage(`sqlite://${path}`, { watch: false });
    const wal = `${path}-wal`;
    const flusher = new WalFlusher(wal);
    const before = handlesOn(wal);

    flusher.wrote();
    flusher.close();
    flusher.wrote();
    await turn();

    assert.equal(handlesOn(wal), before);
    await storage.close();
  });

  test("a WAL that cannot be opened is left alone", () => {
    const flusher = new WalFlusher(join(dir, "nowhere", "missing.db-wal"));
    assert.doesNotThrow(() => flusher.wrote());
    flusher.close();
  });
});

// The files backend's listings of ready folders: handles learn of added
// markers through each queue's addition log instead of listing the folder,
// file them in claim order, skip delayed tasks without walking them, and
// still find a marker whose name never reached the log.
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { AdditionLog } from "../../src/storage/file/addition-log.js";
import { openFileStorage } from "../../src/storage/file/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, newTasks, START } from "../contract/builders.js";

let dir: string;
let count = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-file-listing-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fresh(name: string): string {
  count += 1;
  return join(dir, `${name}-${count}`);
}

/** Replaces a file with an empty one by a rename, as the store's rotation does. */
function replaceWithEmpty(path: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, "");
  renameSync(tmp, path);
}

describe("file: addition log", () => {
  test("a reader gets every appended name once, in order, from several writers", () => {
    const path = fresh("log");
    const first = new AdditionLog(path, replaceWithEmpty);
    const second = new AdditionLog(path, replaceWithEmpty);
    const reader = new AdditionLog(path, replaceWithEmpty);

    assert.deepEqual(reader.readNew(), []);
    first.append(["a", "b"]);
    second.append(["c"]);
    assert.deepEqual(reader.readNew(), ["a", "b", "c"]);
    assert.deepEqual(reader.readNew(), []);
    first.append(["d"]);
    assert.deepEqual(reader.readNew(), ["d"]);
    for (const log of [first, second, reader]) log.close();
  });

  test("a line still being written is read only once it is whole", () => {
    const path = fresh("log");
    const reader = new AdditionLog(path, replaceWithEmpty);
    reader.readNew();

    appendFileSync(path, "whole\nhal");
    assert.deepEqual(reader.readNew(), ["whole"]);
    appendFileSync(path, "f\n");
    assert.deepEqual(reader.readNew(), ["half"]);
    reader.close();
  });

  test("after a rotation the reader finishes the old log, then follows the new one", () => {
    const path = fresh("log");
    const writer = new AdditionLog(path, replaceWithEmpty);
    const reader = new AdditionLog(path, replaceWithEmpty);
    reader.readNew();

    writer.append(["before-1"]);
    writer.rotate(0);
    // The writer opened the old file; it must notice the new one before appending.
    writer.append(["after-1"]);
    assert.deepEqual(reader.readNew(), ["before-1", "after-1"]);

    writer.rotate(1_000_000); // short enough: left alone
    writer.append(["after-2"]);
    assert.deepEqual(reader.readNew(), ["after-2"]);
    writer.close();
    reader.close();
  });

  test("skipToEnd forgets what was logged so far", () => {
    const path = fresh("log");
    const writer = new AdditionLog(path, replaceWithEmpty);
    const reader = new AdditionLog(path, replaceWithEmpty);
    writer.append(["old"]);
    reader.skipToEnd();
    writer.append(["new"]);
    assert.deepEqual(reader.readNew(), ["new"]);
    writer.close();
    reader.close();
  });
});

describe("file: listings", () => {
  test("a task added by another handle is claimed in its place in claim order", async () => {
    const root = fresh("store");
    const clock = new ManualClock(START);
    const producer = await openFileStorage(`file://${root}`, { clock });
    const worker = await openFileStorage(`file://${root}`, { clock });
    try {
      await producer.enqueue(newTasks(3_000, "low"));
      const first = await worker.claim(claimRequest({ limit: 5 }));
      assert.deepEqual(
        first.map((t) => t.id),
        ["low-0", "low-1", "low-2", "low-3", "low-4"],
      );

      // Sorts before everything the worker's listing holds: filed in front, not at the end.
      await producer.enqueue([newTask({ id: "urgent", priority: 9 })]);
      await producer.enqueue([newTask({ id: "later", priority: -1 })]);
      const next = await worker.claim(claimRequest({ limit: 2 }));
      assert.deepEqual(
        next.map((t) => t.id),
        ["urgent", "low-5"],
      );
    } finally {
      await producer.close();
      await worker.close();
    }
  });

  test("delayed tasks of a higher priority do not hide due ones, and come due in order", async () => {
    const root = fresh("store");
    const clock = new ManualClock(START);
    const storage = await openFileStorage(`file://${root}`, { clock });
    try {
      await storage.enqueue(newTasks(2_000, "delayed", { priority: 5, runAt: START + 60_000 }));
      await storage.enqueue([newTask({ id: "due-now" })]);

      const now = await storage.claim(claimRequest({ limit: 10 }));
      assert.deepEqual(
        now.map((t) => t.id),
        ["due-now"],
      );

      clock.advance(60_000);
      const later = await storage.claim(claimRequest({ limit: 3 }));
      assert.deepEqual(
        later.map((t) => t.id),
        ["delayed-0", "delayed-1", "delayed-2"],
      );
    } finally {
      await storage.close();
    }
  });

  test("a marker whose name never reached the log is found once the listing is a second old", async () => {
    const root = fresh("store");
    const clock = new ManualClock(START);
    const producer = await openFileStorage(`file://${root}`, { clock });
    const worker = await openFileStorage(`file://${root}`, { clock });
    try {
      assert.deepEqual(await worker.claim(claimRequest()), []);
      await producer.enqueue([newTask({ id: "unannounced" })]);
      // As if the producer had died between placing the marker and logging it.
      const gen = join(root, "gen");
      for (const name of readdirSync(gen)) truncateSync(join(gen, name), 0);

      assert.deepEqual(await worker.claim(claimRequest()), []);
      await sleep(1_100);
      const claimed = await worker.claim(claimRequest());
      assert.deepEqual(
        claimed.map((t) => t.id),
        ["unannounced"],
      );
    } finally {
      await producer.close();
      await worker.close();
    }
  });
});

// The files backend beyond the contract: URLs, file names, opening a folder,
// the event log's segments, and taking over what a dead process left.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { InvalidArgumentError, StorageError } from "../../src/errors.js";
import type { Storage } from "../../src/storage/contract.js";
import { fileRootFromUrl, openFileStorage } from "../../src/storage/file/index.js";
import { Layout } from "../../src/storage/file/layout.js";
import { encodeName, fromSortableHex, sortableHex } from "../../src/storage/file/names.js";
import { OWNER } from "../../src/storage/file/owner.js";
import { newRecord, RecordFiles } from "../../src/storage/file/records.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, completed, newTask, newTasks, START } from "../contract/builders.js";

let dir: string;
let stores = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-file-"));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A new store folder and a handle on it. */
async function freshStore(clock = new ManualClock(START)) {
  stores += 1;
  const root = join(dir, `store-${stores}`);
  const storage = await openFileStorage(`file://${root}`, { clock });
  return { root, storage, clock };
}

/** The owner name of a process that has exited, as a dead holder's files carry it. */
function deadOwner(): string {
  const pid = Number(
    execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]),
  );
  // Same form as this process's name (and so the same pid namespace), another pid.
  return OWNER.replace(/^\d+\.[^.]+/, `${pid}.1`);
}

describe("file: URLs", () => {
  test("reads absolute and relative folders", () => {
    assert.equal(fileRootFromUrl("file:///var/omniq/queue"), "/var/omniq/queue");
    assert.equal(fileRootFromUrl("file://./data/q"), join(process.cwd(), "data/q"));
    assert.equal(fileRootFromUrl("file://data"), join(process.cwd(), "data"));
    assert.equal(fileRootFromUrl("file:///tmp/with%20space/"), "/tmp/with space");
  });

  test("refuses URLs that name no folder or carry more than one", () => {
    for (const url of ["file://", "file:///", "file:///x?mode=1", "file:///x#y", "sqlite:///x"]) {
      assert.throws(() => fileRootFromUrl(url), InvalidArgumentError, url);
    }
  });
});

describe("file: names", () => {
  test("sortable hex keeps the order of numbers and reads back", () => {
    const numbers = [-1e12, -5, -1, -0.5, 0, 1e-9, 0.5, 1, 3, 255, 256, 1e12, Date.UTC(2030, 0, 1)];
    const encoded = numbers.map(sortableHex);
    assert.deepEqual([...encoded].sort(), encoded);
    assert.deepEqual(encoded.map(fromSortableHex), numbers);
    assert.equal(sortableHex(-0), sortableHex(0));
  });

  test("plain names are kept, others hashed into safe file names", () => {
    assert.equal(encodeName("task-1_a"), "task-1_a");
    for (const name of ["Task-1", "../up", "a/b", "x.y", "", "é", "a".repeat(101)]) {
      assert.match(encodeName(name), /^=[A-Za-z0-9_-]{43}$/, name);
    }
    assert.notEqual(encodeName("A"), encodeName("a"));
  });
});

describe("file: opening a folder", () => {
  test("refuses a folder that holds other files", async () => {
    const root = join(dir, "not-a-store");
    mkdirSync(root);
    writeFileSync(join(root, "notes.txt"), "mine");

    await assert.rejects(openFileStorage(`file://${root}`), StorageError);
    assert.deepEqual(readdirSync(root), ["notes.txt"]);
  });

  test("refuses a store of another format", async () => {
    const { root, storage } = await freshStore();
    await storage.close();
    writeFileSync(
      join(root, "meta", "format.json"),
      JSON.stringify({ format: "omniq-files", version: 99 }),
    );

    await assert.rejects(openFileStorage(`file://${root}`), /version/);
  });

  test("processes opening a new folder at once make one store", async () => {
    const root = join(dir, "opened-at-once");
    const handles = await Promise.all(
      Array.from({ length: 6 }, () => openFileStorage(`file://${root}`)),
    );
    await handles[0]?.enqueue([newTask({ id: "a" })]);

    for (const handle of handles) assert.equal((await handle.getTask("a"))?.id, "a");
    assert.deepEqual(
      readdirSync(join(root, "meta")).filter((name) => name.startsWith("lock")),
      ["lock"],
    );
    assert.deepEqual(
      readdirSync(root).filter((name) => name.startsWith(".meta-")),
      [],
    );
    for (const handle of handles) await handle.close();
  });

  test("a closed handle refuses work", async () => {
    const { storage } = await freshStore();
    await storage.close();

    await assert.rejects(storage.getTask("a"), StorageError);
    assert.throws(() => storage.subscribe?.(() => {}), StorageError);
  });
});

describe("file: what the contract does not show", () => {
  test("ids and queue names that are no plain file names work and stay inside the store", async () => {
    const { root, storage } = await freshStore();
    const ids = ["Upper/Case id", "../../escape", "ünïcode", "x".repeat(300)];
    await storage.enqueue(ids.map((id) => newTask({ id, queue: "Mail/High priority" })));

    const claimed = await storage.claim(claimRequest({ queues: ["Mail/High priority"] }));
    assert.deepEqual(
      claimed.map((t) => t.id),
      ids,
    );
    assert.deepEqual(await storage.settle(claimed.map((t) => completed(t))), [
      true,
      true,
      true,
      true,
    ]);
    assert.equal((await storage.getTask("../../escape"))?.state, "completed");
    assert.deepEqual(
      (await storage.listTasks()).map((t) => t.id),
      ids,
    );
    assert.equal(existsSync(join(root, "..", "escape.json")), false);
    await storage.close();
  });

  test("a result larger than a page is stored whole", async () => {
    const { storage } = await freshStore();
    await storage.enqueue([newTask({ id: "big" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);

    const result = JSON.stringify("r".repeat(20_000));
    await storage.settle([completed(held, result)]);

    assert.deepEqual(await storage.getOutcome("big"), { state: "completed", result });
    await storage.close();
  });

  test("a damaged record is reported, an empty one (being created) is not there yet", async () => {
    const { root, storage } = await freshStore();
    await storage.enqueue([newTask({ id: "a" }), newTask({ id: "b" })]);
    writeFileSync(join(root, "tasks", "a.json"), 'omniq 9 1234abcd\n{"x":123}');
    writeFileSync(join(root, "tasks", "b.json"), "");

    await assert.rejects(storage.getTask("a"), /damaged/);
    assert.equal(await storage.getTask("b"), null);
    await storage.close();
  });

  test("the event log spans segment files, and old ones are removed whole", async () => {
    const { root, storage, clock } = await freshStore();
    // Segments start a new file after 4,096 events, between two batches:
    // seqs 1-5,000 in the first file, 5,001-7,000 in the second.
    for (let batch = 0; batch < 6; batch++) await storage.enqueue(newTasks(1_000, `old${batch}`));
    clock.advance(10_000);
    await storage.enqueue(newTasks(1_000, "new"));
    const segments = () => readdirSync(join(root, "events")).length;
    assert.equal(segments(), 2);

    const across = await storage.eventsSince(4_995, 10);
    assert.deepEqual(
      across.map((e) => e.seq),
      [4_996, 4_997, 4_998, 4_999, 5_000, 5_001, 5_002, 5_003, 5_004, 5_005],
    );
    assert.equal((await storage.eventsSince(5_005, 1))[0]?.taskId, "old5-5");

    const report = await storage.maintain({ maxLeaseLosses: 3, eventTtlMs: 5_000 });
    assert.equal(report.eventsDeleted, 6_000);
    assert.equal(segments(), 1, "the first segment, wholly expired, is gone");
    assert.equal((await storage.eventsSince(0, 1))[0]?.taskId, "new-0");
    assert.deepEqual(await storage.taskEvents("old5-999"), []);
    assert.equal((await storage.taskEvents("new-999"))[0]?.seq, 7_000);
    assert.equal(await storage.lastEventSeq(), 7_000);
    await storage.close();
  });
});

describe("file: taking over from a process that died", () => {
  let storage: Storage;
  let root: string;
  const maintenance = { maxLeaseLosses: 3, eventTtlMs: 86_400_000 };

  before(async () => {
    ({ storage, root } = await freshStore());
  });

  after(async () => {
    await storage.close();
  });

  test("a settle waits out a marker a dead process held, then applies", async () => {
    await storage.enqueue([newTask({ id: "stuck" })]);
    const [held] = await storage.claim(claimRequest());
    assert.ok(held);
    // As if a process died while it heartbeated the task.
    renameSync(join(root, "running", "stuck"), join(root, "busy", `stuck@${deadOwner()}`));

    assert.deepEqual(await storage.settle([completed(held)]), [true]);
    assert.equal((await storage.getTask("stuck"))?.state, "completed");
    assert.deepEqual(readdirSync(join(root, "busy")), []);
  });

  test("maintain takes over the event lock of a dead writer and ends its half line", async () => {
    const owner = deadOwner();
    renameSync(join(root, "meta", "lock"), join(root, "meta", `lock@${owner}`));
    const [segment] = readdirSync(join(root, "events"));
    writeFileSync(join(root, "events", segment as string), '{"seq":99999,"taskId":"cut', {
      flag: "a",
    });

    await storage.enqueue([newTask({ id: "after-crash" })]);

    const events = await storage.taskEvents("after-crash");
    assert.deepEqual(
      events.map((e) => e.type),
      ["enqueued"],
    );
    assert.ok(existsSync(join(root, "meta", "lock")), "the lock is free again");
  });

  test("maintain undoes an enqueue that died before its commit point", async () => {
    const owner = deadOwner();
    const batch = "00aa11bb22cc33dd";
    await storage.enqueue([newTask({ id: "half-2" })]);
    // The dead batch wrote its intent and both markers, created the record of
    // half-1, and would have failed on half-2, which was stored before.
    writeFileSync(
      join(root, "staging", `${batch}@${owner}.json`),
      JSON.stringify(["half-1", "half-2"]),
    );
    for (const id of ["half-1", "half-2"])
      writeFileSync(join(root, "busy", `${id}@${owner}@${batch}`), "");
    const records = new RecordFiles(new Layout(root));
    const task = newRecord(newTask({ id: "half-1" }), START);
    assert.ok(records.create("half-1", { order: "0".repeat(28), task, batch }));

    await storage.maintain(maintenance);

    assert.equal(await storage.getTask("half-1"), null);
    assert.equal(
      (await storage.getTask("half-2"))?.state,
      "pending",
      "not the dead batch's record",
    );
    assert.deepEqual(readdirSync(join(root, "staging")), []);
    assert.deepEqual(readdirSync(join(root, "busy")), []);
  });

  test("maintain finishes an enqueue that died after its commit point", async () => {
    const owner = deadOwner();
    const batch = "44ee55ff66aa77bb";
    await storage.enqueue([
      newTask({ id: "late-1", queue: "late" }),
      newTask({ id: "late-2", queue: "late" }),
    ]);
    // Undo the publishing step: markers back in busy/, the intent committed.
    const ready = join(root, "ready", "late");
    for (const id of ["late-1", "late-2"]) {
      const name = readdirSync(ready).find((n) => n.endsWith(`.${id}`)) as string;
      renameSync(join(ready, name), join(root, "busy", `${id}@${owner}@${batch}`));
    }
    writeFileSync(
      join(root, "staging", `${batch}@${owner}.commit`),
      JSON.stringify(["late-1", "late-2"]),
    );

    const late = claimRequest({ queues: ["late"] });
    assert.deepEqual(await storage.claim(late), []);
    await storage.maintain(maintenance);

    const claimed = await storage.claim(late);
    assert.deepEqual(
      claimed.map((t) => t.id),
      ["late-1", "late-2"],
    );
    assert.deepEqual(readdirSync(join(root, "staging")), []);
  });

  test("maintain removes the temporary files of dead processes only", async () => {
    const dead = join(root, "tmp", `${deadOwner()}~7`);
    const live = join(root, "tmp", `${OWNER}~7000`);
    writeFileSync(dead, "half");
    writeFileSync(live, "half");

    await storage.maintain(maintenance);

    assert.equal(existsSync(dead), false);
    assert.equal(existsSync(live), true);
  });
});

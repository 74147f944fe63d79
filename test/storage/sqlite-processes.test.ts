// Several processes on one SQLite file: no task runs twice, a killed worker
// loses nothing, a new file opened by several processes at once gets its
// schema once, and signals cross from one process to another.
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import type { Storage, StorageSignal } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { SCHEMA_VERSION } from "../../src/storage/sqlite/schema.js";
import { ManualClock } from "../../src/util/clock.js";
import { newTask } from "../contract/builders.js";

const CHILD = fileURLToPath(new URL("./fixtures/sqlite-child.ts", import.meta.url));

let dir: string;
const children: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-sqlite-processes-"));
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

function spawnChild(...args: string[]): ChildProcess {
  const child = fork(CHILD, args, { execArgv: ["--import", "tsx"], stdio: "inherit" });
  children.push(child);
  return child;
}

/** The next IPC message of `child` that `match` accepts. */
function messageFrom<T>(
  child: ChildProcess,
  match: (message: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (!match(message)) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code} first`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = await once(child, "exit");
  return code as number | null;
}

/** A task due now by the system clock, as the children's clocks read it. */
function dueNow(id: string, queue: string) {
  return newTask({ id, queue, runAt: Date.now(), createdAt: Date.now(), resultTtlMs: 600_000 });
}

describe("sqlite: several processes on one file", () => {
  test("3 processes draining 3,000 tasks run each exactly once", { timeout: 120_000 }, async () => {
    const url = `sqlite://${join(dir, "drain.db")}`;
    const producer = await openSqliteStorage(url);
    const logs = [0, 1, 2].map((i) => join(dir, `drain-${i}.log`));

    const drainers = logs.map((log) => spawnChild("drain", url, log));
    await Promise.all(drainers.map((child) => messageFrom(child, (m) => m === "ready")));

    // Enqueued while the children already claim, so they compete for them.
    for (let batch = 0; batch < 30; batch++) {
      await producer.enqueue(
        Array.from({ length: 100 }, (_, i) => dueNow(`t-${batch * 100 + i}`, "shared")),
      );
    }
    for (const child of drainers) child.send("finish");
    assert.deepEqual(await Promise.all(drainers.map(exitCode)), [0, 0, 0]);

    const runs = new Map<string, number>();
    for (const log of logs) {
      const lines = (await readFile(log, "utf8")).split("\n").filter((line) => line !== "");
      assert.ok(lines.length > 0, `${log}: every child should have run some tasks`);
      for (const line of lines) {
        const [id] = line.split(" ");
        runs.set(id as string, (runs.get(id as string) ?? 0) + 1);
      }
    }
    assert.equal(runs.size, 3_000);
    assert.deepEqual(
      [...runs.values()].filter((n) => n !== 1),
      [],
      "no task ran twice",
    );
    assert.deepEqual(await producer.countTasks(), { shared: { completed: 3_000 } });
    await producer.close();
  });

  test("a task held by a process killed with SIGKILL is taken over after its lease", {
    timeout: 60_000,
  }, async () => {
    const url = `sqlite://${join(dir, "killed.db")}`;
    const clock = new ManualClock(Date.now());
    const storage = await openSqliteStorage(url, { clock });
    await storage.enqueue([dueNow("doomed-1", "doomed")]);

    const holder = spawnChild("hold", url, "500");
    const held = await messageFrom<{ id: string; token: number }>(holder);
    assert.deepEqual(held, { id: "doomed-1", token: 1 });
    holder.kill("SIGKILL");
    assert.equal(await exitCode(holder), null);

    // Nothing to return while the lease runs, even with its holder dead.
    const options = { maxLeaseLosses: 3, eventTtlMs: 3_600_000 };
    assert.equal((await storage.maintain(options)).leasesExpired, 0);

    clock.set(Date.now() + 1_000);
    assert.equal((await storage.maintain(options)).leasesExpired, 1);

    const other = await openSqliteStorage(url, { clock });
    const [task] = await other.claim({
      queues: ["doomed"],
      workers: ["async"],
      limit: 1,
      owner: "survivor",
      leaseMs: 30_000,
    });
    assert.equal(task?.id, "doomed-1");
    assert.equal(task?.token, 2);
    assert.equal(task?.leaseLosses, 1);
    assert.deepEqual(
      await other.settle([{ id: "doomed-1", token: 2, outcome: "completed", result: "3" }]),
      [true],
    );
    assert.deepEqual(
      await storage.settle([{ id: "doomed-1", token: 1, outcome: "completed", result: "4" }]),
      [false],
    );
    assert.equal((await storage.getOutcome("doomed-1"))?.result, "3");
    await other.close();
    await storage.close();
  });

  test("4 processes opening a new file at once create its schema once", {
    timeout: 60_000,
  }, async () => {
    const path = join(dir, "fresh", "race.db");
    const openers = [0, 1, 2, 3].map((i) => spawnChild("open", `sqlite://${path}`, `opener-${i}`));
    // All have loaded their code before any is told to open, so they open together.
    await Promise.all(openers.map((child) => messageFrom(child, (m) => m === "loaded")));

    const opened = openers.map((child) => messageFrom(child, (m) => m === "opened"));
    for (const child of openers) child.send("go");
    await Promise.all(opened);
    assert.deepEqual(await Promise.all(openers.map(exitCode)), [0, 0, 0, 0]);

    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      const ids = db.prepare("SELECT id FROM omniq_tasks ORDER BY id").pluck().all();
      assert.deepEqual(ids, ["opener-0", "opener-1", "opener-2", "opener-3"]);
    } finally {
      db.close();
    }
  });

  test("signals cross processes: ready and finished from another process", {
    timeout: 60_000,
  }, async () => {
    const url = `sqlite://${join(dir, "signals.db")}`;
    const storage: Storage = await openSqliteStorage(url);
    const received: StorageSignal[] = [];
    const unsubscribe = storage.subscribe?.((signal) => received.push(signal));
    assert.ok(unsubscribe);

    const producer = spawnChild("produce", url, "crossing");
    await messageFrom(producer, (m) => m === "enqueued");
    await until(() => received.some((s) => s.type === "ready" && s.queue === "cross"));

    producer.send("complete");
    await messageFrom(producer, (m) => m === "completed");
    await until(() => received.some((s) => s.type === "finished" && s.ids.includes("crossing")));
    assert.equal(await exitCode(producer), 0);

    unsubscribe();
    await storage.close();
  });
});

/** Waits, on real time, for a condition that another process brings about. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

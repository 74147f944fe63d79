// Idempotency keys, queue controls and schedule versions hold across
// processes on one SQLite file: several processes racing at once never get
// past a key, a concurrency limit, a rate limit or a version that one
// process alone could not.
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { newTasks } from "../contract/builders.js";
import { tempDir } from "../helpers/temp.js";

const CHILD = fileURLToPath(new URL("./fixtures/sqlite-flow-child.ts", import.meta.url));
const RACERS = 4;

const dir = tempDir("omniq-sqlite-flow-");
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  dir.remove();
});

/** The message after the first of `child`, or a rejection if it exits first. */
function nextMessage(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code} first`));
    child.once("message", (message) => {
      child.off("exit", onExit);
      resolve(message);
    });
    child.once("exit", onExit);
  });
}

/** Starts `RACERS` children in `mode`, lets them go together, and answers what each sent. */
async function race(mode: string, url: string, arg: (i: number) => string): Promise<unknown[]> {
  const racers = Array.from({ length: RACERS }, (_, i) => {
    const child = fork(CHILD, [mode, url, arg(i)], { execArgv: ["--import", "tsx"] });
    children.push(child);
    return child;
  });
  await Promise.all(racers.map(nextMessage));

  const answers = racers.map(nextMessage);
  for (const child of racers) child.send("go");
  return (await Promise.all(answers)).map((message) => (message as { answer: unknown }).answer);
}

function sum(numbers: readonly number[]): number {
  return numbers.reduce((a, b) => a + b, 0);
}

/** Rate windows start at multiples of the interval: one this long does not turn during a test. */
const LONG_WINDOW = 10 * 365 * 24 * 3_600_000;

describe("sqlite: flow control across processes", { timeout: 120_000 }, () => {
  test("processes enqueueing one key at once store one task", async () => {
    const url = `sqlite://${join(dir.path, "keys.db")}`;
    const answers = await race("key", url, (i) => `keyed-${i}`);

    const storage = await openSqliteStorage(url);
    const stored = await storage.listTasks({ queue: "keys" });
    assert.equal(stored.length, 1);
    assert.deepEqual(answers, Array(RACERS).fill(stored[0]?.id));
    await storage.close();
  });

  test("a concurrency limit holds over processes claiming at once", async () => {
    const url = `sqlite://${join(dir.path, "concurrency.db")}`;
    const storage = await openSqliteStorage(url);
    await storage.enqueue(newTasks(20, "limited", { queue: "limited", runAt: 0, createdAt: 0 }));
    await storage.setQueueControl("limited", { paused: false, concurrency: 3, rateLimit: null });

    const counts = (await race("claim", url, () => "limited")) as number[];
    assert.equal(sum(counts), 3);
    assert.deepEqual(await storage.countTasks(), { limited: { running: 3, pending: 17 } });
    await storage.close();
  });

  test("a rate limit holds over processes claiming at once", async () => {
    const url = `sqlite://${join(dir.path, "rate.db")}`;
    const storage = await openSqliteStorage(url);
    await storage.enqueue(newTasks(20, "rated", { queue: "rated", runAt: 0, createdAt: 0 }));
    const rateLimit = { max: 5, intervalMs: LONG_WINDOW };
    await storage.setQueueControl("rated", { paused: false, concurrency: null, rateLimit });

    const counts = (await race("claim", url, () => "rated")) as number[];
    assert.equal(sum(counts), 5);
    assert.deepEqual(await storage.countTasks(), { rated: { running: 5, pending: 15 } });
    await storage.close();
  });

  test("of processes writing a schedule at one version, exactly one wins", async () => {
    const url = `sqlite://${join(dir.path, "schedules.db")}`;
    const storage = await openSqliteStorage(url);
    assert.equal(await storage.putSchedule("race", "first", null), 1);

    const versions = await race("schedule", url, (i) => `writer-${i}`);
    const winners = versions.flatMap((version, i) => (version === 2 ? [i] : []));
    assert.equal(winners.length, 1);
    assert.deepEqual(
      versions.filter((version) => version !== 2),
      Array(RACERS - 1).fill(null),
    );
    assert.deepEqual(await storage.getSchedule("race"), {
      id: "race",
      version: 2,
      data: `writer-${winners[0]}`,
    });
    await storage.close();
  });
});

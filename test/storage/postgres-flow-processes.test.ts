// Keys and queue controls over several processes on one PostgreSQL store:
// the same keys enqueued by every process at once store one task each, and
// a concurrency limit holds while processes claim and settle side by side.
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { newTasks } from "../contract/builders.js";
import { POSTGRES, POSTGRES_URL, skipUnless } from "../helpers/services.js";
import { PostgresTestStore } from "./fixtures/postgres-store.js";

const CHILD = fileURLToPath(new URL("./fixtures/postgres-flow-child.ts", import.meta.url));
const skip = await skipUnless(POSTGRES);

let dir: string;
const children: ChildProcess[] = [];
const stores: PostgresTestStore[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "omniq-pg-flow-"));
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  for (const store of stores) await store.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function spawnChild(mode: string, schema: string, arg: string): ChildProcess {
  const child = fork(CHILD, [mode, POSTGRES_URL, schema, arg], {
    execArgv: ["--import", "tsx"],
    stdio: "inherit",
  });
  children.push(child);
  return child;
}

function messageFrom<T>(child: ChildProcess, match: (message: T) => boolean): Promise<T> {
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

/** Starts `count` children in `mode` and lets them all go at once. */
async function startTogether(
  count: number,
  mode: string,
  schema: string,
  arg: (i: number) => string,
) {
  const started = Array.from({ length: count }, (_, i) => spawnChild(mode, schema, arg(i)));
  await Promise.all(started.map((child) => messageFrom(child, (m) => m === "ready")));
  for (const child of started) child.send("go");
  return started;
}

/** The most intervals `[start, end]` that overlap at any one time. */
function mostAtOnce(intervals: [number, number][]): number {
  const edges = intervals.flatMap(([start, end]) => [
    [start, 1],
    [end, -1],
  ]);
  // At equal times an end comes first: touching intervals did not overlap.
  edges.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step as number;
    most = Math.max(most, now);
  }
  return most;
}

describe("postgres: keys and controls over several processes", { skip }, () => {
  test("4 processes enqueueing the same 50 keys at once store one task per key", {
    timeout: 60_000,
  }, async () => {
    const store = new PostgresTestStore(undefined, "flowkeys");
    stores.push(store);
    const storage = await store.open();

    const writers = await startTogether(4, "keys", store.schema, () => "50");
    const replies = await Promise.all(
      writers.map((child) => messageFrom<{ answers: string[] }>(child, (m) => "answers" in m)),
    );
    assert.deepEqual(await Promise.all(writers.map(exitCode)), [0, 0, 0, 0]);

    const stored = await storage.listTasks({ queue: "keyed", limit: 1_000 });
    assert.equal(stored.length, 50);
    const holders = new Map(stored.map((task) => [task.idempotencyKey, task.id]));
    for (const { answers } of replies) {
      assert.deepEqual(
        answers,
        answers.map((_, i) => holders.get(`k-${i}`)),
      );
    }
  });

  test("a concurrency limit of 3 holds over 4 processes claiming and settling", {
    timeout: 120_000,
  }, async () => {
    const store = new PostgresTestStore(undefined, "flowlimit");
    stores.push(store);
    const storage = await store.open();
    await storage.enqueue(newTasks(60, "l", { queue: "limited", runAt: Date.now() }));
    await storage.setQueueControl("limited", { paused: false, concurrency: 3, rateLimit: null });

    const logs = [0, 1, 2, 3].map((i) => join(dir, `limited-${i}.log`));
    const workers = await startTogether(4, "limited", store.schema, (i) => logs[i] as string);
    assert.deepEqual(await Promise.all(workers.map(exitCode)), [0, 0, 0, 0]);

    const lines = (await Promise.all(logs.map((log) => readFile(log, "utf8").catch(() => ""))))
      .join("")
      .trim()
      .split("\n");
    assert.equal(lines.length, 60, "every task ran once");
    const intervals = lines.map((line) => {
      const [, start, end] = line.split(" ");
      return [Number(start), Number(end)] as [number, number];
    });
    const most = mostAtOnce(intervals);
    assert.ok(most <= 3, `${most} tasks ran at once`);
    assert.ok(most >= 2, "the processes did run side by side");
    assert.deepEqual(await storage.countTasks(), { limited: { completed: 60 } });
  });
});

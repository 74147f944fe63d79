// Several processes on one NATS store: each task is claimed and completed by
// exactly one of them, and a process killed with SIGKILL while holding a
// task loses nothing once its lease runs out.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Storage } from "../../src/storage/contract.js";
import { destroyNatsStorage, openNatsStorage } from "../../src/storage/nats/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTasks } from "../contract/builders.js";
import { killHard } from "../helpers/processes.js";
import { NATS, NATS_URL, skipUnless } from "../helpers/services.js";

const SCRIPT = fileURLToPath(new URL("./fixtures/nats-worker.ts", import.meta.url));
const skip = await skipUnless(NATS);

/** A child running the fixture, with its stdout split into lines. */
function startChild(args: string[]): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      const taker = waiting.shift();
      if (taker) taker(line);
      else queue.push(line);
    }
  });
  const lines: AsyncIterator<string> = {
    next: () =>
      new Promise((resolve, reject) => {
        const line = queue.shift();
        if (line !== undefined) return resolve({ value: line, done: false });
        waiting.push((value) => resolve({ value, done: false }));
        child.once("exit", (code) => reject(new Error(`child exited with ${code}`)));
      }),
  };
  return { child, lines };
}

/** The builders date tasks in 2030; the children run on the system clock. */
const due = () => ({ runAt: Date.now(), createdAt: Date.now() });

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  return (await lines.next()).value as string;
}

describe("nats storage: several processes", { skip }, () => {
  let prefix = "";
  let storage: Storage;

  before(async () => {
    prefix = `procs-${randomBytes(4).toString("hex")}`;
    storage = await openNatsStorage(NATS_URL, { prefix });
  });

  after(async () => {
    await storage?.close();
    await destroyNatsStorage(NATS_URL, { prefix });
  });

  test("three processes complete each of 3,000 tasks exactly once", async () => {
    const total = 3_000;
    for (let start = 0; start < total; start += 500) {
      await storage.enqueue(newTasks(500, `p${start / 500}`, due()));
    }

    const children = ["a", "b", "c"].map((owner) => startChild([NATS_URL, prefix, owner, "drain"]));
    for (const { lines } of children) assert.equal(await nextLine(lines), "ready");
    for (const { child } of children) child.stdin?.write("go\n");
    const reports = await Promise.all(
      children.map(
        async ({ lines }) => JSON.parse(await nextLine(lines)) as Record<string, string[]>,
      ),
    );

    const claimed = reports.flatMap((r) => r.claimed ?? []);
    const settled = reports.flatMap((r) => r.settled ?? []);
    assert.equal(claimed.length, total, "every task claimed once in all");
    assert.equal(new Set(claimed).size, total, "no task claimed twice");
    assert.deepEqual([...settled].sort(), [...claimed].sort(), "every claim completed");
    for (const report of reports) {
      assert.ok((report.settled ?? []).length > 0, "each process did some of the work");
    }
    assert.deepEqual(await storage.countTasks(), { default: { completed: total } });
  });

  test("a task held by a process killed with SIGKILL is completed by another", async () => {
    await storage.enqueue(newTasks(1, "orphan", due()));
    const { child, lines } = startChild([NATS_URL, prefix, "doomed", "hold", "1000"]);
    const [word, id, token] = (await nextLine(lines)).split(" ");
    assert.equal(word, "held");
    assert.equal((await storage.getTask(id as string))?.leaseOwner, "doomed");

    await killHard(child);

    // A handle whose clock is past the lease: no need to wait the second out.
    const clock = new ManualClock(Date.now() + 60_000);
    const survivor = await openNatsStorage(NATS_URL, { prefix, clock });
    try {
      const report = await survivor.maintain({ maxLeaseLosses: 3, eventTtlMs: 86_400_000 });
      assert.equal(report.leasesExpired, 1);

      const [again] = await survivor.claim(claimRequest({ owner: "survivor" }));
      assert.equal(again?.id, id);
      assert.equal(again?.attempts, 2);
      assert.equal(again?.token, Number(token) + 1);
      assert.deepEqual(
        await survivor.settle([
          { id: id as string, token: again.token, outcome: "completed", result: "1" },
        ]),
        [true],
      );
      assert.equal((await survivor.getTask(id as string))?.state, "completed");
    } finally {
      await survivor.close();
    }
  });
});

// The NATS backend's flow controls and idempotency keys where the contract
// suite cannot look: several processes at once (limits and keys hold
// across them, since they meet in compare-and-set records on the server),
// permits left behind by a claimer that died, and a store made before the
// state bucket existed.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, beforeEach, describe, test } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { QueueControl, Storage } from "../../src/storage/contract.js";
import { destroyNatsStorage, openNatsStorage } from "../../src/storage/nats/index.js";
import type { NewTask } from "../../src/task/record.js";
import { claimRequest, newTasks } from "../contract/builders.js";
import { NATS, NATS_URL, skipUnless } from "../helpers/services.js";
import {
  type ClaimStep,
  claimedIds,
  type EnqueueStep,
  killRacers,
  race,
  type Step,
} from "./fixtures/flow-race.js";

const skip = await skipUnless(NATS);
after(killRacers);

const limits = (fields: Partial<QueueControl>): QueueControl => ({
  paused: false,
  concurrency: null,
  rateLimit: null,
  ...fields,
});

/** One process per step on the store of `prefix`, all let go at once; answers what each got. */
function runAtOnce<S extends Step>(prefix: string, steps: S[]) {
  return race(`${NATS_URL}?prefix=${prefix}`, steps, { readControlsFirst: true });
}

/** Four processes, each claiming up to `limit` tasks of `queue` once and holding them. */
function claimers(queue: string, limit: number): ClaimStep[] {
  const step: ClaimStep = { step: "claim", queue, limit, leaseMs: 60_000, until: { claims: 1 } };
  return [step, step, step, step];
}

/** Tasks due now by the system clock, as the children see it. */
const due = () => ({ runAt: Date.now(), createdAt: Date.now() });

/**
 * A task as the backend's record holds it while it waits, written here by
 * hand as another process or an older version would have left it.
 */
function waitingRecord(task: NewTask) {
  return {
    ...task,
    state: "pending",
    attempts: 0,
    leaseLosses: 0,
    token: 0,
    leaseOwner: null,
    leaseExpiresAt: null,
    startedAt: null,
    finishedAt: null,
    cancelRequested: false,
    lastError: null,
  };
}

describe("nats storage: flow controls and keys", { skip }, () => {
  let prefix = "";
  let storage: Storage;

  beforeEach(async () => {
    prefix = `flow-${randomBytes(4).toString("hex")}`;
    storage = await openNatsStorage(NATS_URL, { prefix });
  });

  afterEach(async () => {
    await storage?.close();
    await destroyNatsStorage(NATS_URL, { prefix });
  });

  test("a concurrency limit holds over four processes claiming at once", async () => {
    await storage.enqueue(newTasks(20, "c", { queue: "limited", ...due() }));
    await storage.setQueueControl("limited", limits({ concurrency: 3 }));

    const claimed = claimedIds(await runAtOnce(prefix, claimers("limited", 5)));
    assert.equal(claimed.length, 3);
    assert.equal(new Set(claimed).size, 3);
    assert.equal((await storage.countTasks()).limited?.running, 3);
  });

  test("a rate limit holds over four processes claiming at once", async () => {
    await storage.enqueue(newTasks(20, "r", { queue: "metered", ...due() }));
    await storage.setQueueControl(
      "metered",
      limits({ rateLimit: { max: 4, intervalMs: 24 * 3_600_000 } }),
    );

    const answers = await runAtOnce(prefix, claimers("metered", 3));
    assert.equal(claimedIds(answers).length, 4);
    assert.deepEqual(await storage.claim(claimRequest({ queues: ["metered"] })), []);
  });

  test("an idempotency key enqueued by four processes at once stores one task", async () => {
    const ids = ["k-a", "k-b", "k-c", "k-d"];
    const answers = await runAtOnce(
      prefix,
      ids.map(
        (id): EnqueueStep => ({
          step: "enqueue",
          queue: "default",
          tasks: [{ id, key: "order-42" }],
          atOnce: 1,
        }),
      ),
    );

    const stored = await storage.listTasks();
    assert.equal(stored.length, 1);
    const holder = stored[0]?.id as string;
    assert.ok(ids.includes(holder));
    assert.deepEqual(
      answers,
      ids.map(() => [holder]),
    );
    assert.equal(stored[0]?.idempotencyKey, "order-42");
  });

  test("batches taking the same keys in opposite orders at once store each key once", async () => {
    const other = await openNatsStorage(NATS_URL, { prefix });
    try {
      for (let round = 0; round < 10; round += 1) {
        const keys = Array.from({ length: 6 }, (_, i) => `r${round}-k${i}`);
        const batch = (side: string, order: string[]) =>
          order.map((key) => newTasks(1, `${side}-${key}`, { idempotencyKey: key })[0] as NewTask);
        const [mine, theirs] = await Promise.all([
          storage.enqueue(batch("a", keys)),
          other.enqueue(batch("b", [...keys].reverse())),
        ]);

        // Whoever won each key, both answer its holder, and it is the one task stored with it.
        assert.deepEqual(mine, [...theirs].reverse());
        for (const [i, key] of keys.entries()) {
          const holder = await storage.getTask(mine[i] as string);
          assert.equal(holder?.idempotencyKey, key);
        }
      }
      assert.equal((await storage.listTasks({ limit: 1_000 })).length, 60);
    } finally {
      await other.close();
    }
  });

  test("a key taken by an enqueue still in progress waits for it, then answers its task", async () => {
    const now = Date.now();
    const [pending] = newTasks(1, "pend", { idempotencyKey: "slow", runAt: now, createdAt: now });
    const nc = await connect({ servers: NATS_URL.replace("nats://", "") });
    try {
      const kvm = new Kvm(nc);
      // What another process leaves between creating its record and committing its batch.
      const record = { ...waitingRecord(pending as NewTask), dependencies: null };
      const tasks = await kvm.open(`${prefix}-tasks`);
      await tasks.put(
        "i.pend-0",
        JSON.stringify({ task: record, order: null, batch: "B1", stagedAt: now }),
      );
      await (await kvm.open(`${prefix}-state`)).put("k.i.slow", JSON.stringify({ id: "pend-0" }));

      const [mine] = newTasks(1, "mine", { idempotencyKey: "slow" });
      const answer = storage.enqueue([mine as NewTask]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const marker = [["i.pend-0", "default", 0, now, "async", null, 1]];
      await (await kvm.open(`${prefix}-index`)).put("b.B1", JSON.stringify(marker));

      assert.deepEqual(await answer, ["pend-0"]);
      assert.deepEqual(
        (await storage.listTasks()).map((task) => task.id),
        ["pend-0"],
      );
    } finally {
      await nc.close();
    }
  });

  test("purge deletes the key entries of the tasks it deleted", async () => {
    const [task] = newTasks(1, "p", { idempotencyKey: "gone-with-it" });
    await storage.enqueue([task as NewTask]);
    await storage.cancel("p-0", "not needed");
    assert.equal(await storage.purge({ states: ["cancelled"] }), 1);

    const nc = await connect({ servers: NATS_URL.replace("nats://", "") });
    try {
      const kv = await new Kvm(nc).open(`${prefix}-state`);
      const entry = await kv.get("k.i.gone-with-it");
      assert.ok(entry === null || entry.operation !== "PUT", "the entry is deleted");
    } finally {
      await nc.close();
    }
  });

  test("permits held by a claimer that died stop counting after a while", async () => {
    await storage.enqueue(newTasks(4, "d", { queue: "q", ...due() }));
    await storage.setQueueControl("q", limits({ concurrency: 2 }));
    const nc = await connect({ servers: NATS_URL.replace("nats://", "") });
    try {
      const kv = await new Kvm(nc).open(`${prefix}-state`);
      const stuck = (at: number) =>
        JSON.stringify({ reserved: { gone: { n: 2, at } }, window: null });

      // A claim under way elsewhere holds its permits...
      await kv.put("p.i.q", stuck(Date.now()));
      assert.deepEqual(await storage.claim(claimRequest({ queues: ["q"] })), []);

      // ...but not one that began long before any claim could last.
      await kv.put("p.i.q", stuck(Date.now() - 120_000));
      assert.equal((await storage.claim(claimRequest({ queues: ["q"] }))).length, 2);
    } finally {
      await nc.close();
    }
  });

  test("a key whose entry names a task that is gone is free", async () => {
    const nc = await connect({ servers: NATS_URL.replace("nats://", "") });
    try {
      const kv = await new Kvm(nc).open(`${prefix}-state`);
      await kv.put("k.i.lost", JSON.stringify({ id: "never-stored" }));
    } finally {
      await nc.close();
    }

    const [task] = newTasks(1, "fresh", { idempotencyKey: "lost" });
    assert.deepEqual(await storage.enqueue([task as NonNullable<typeof task>]), ["fresh-0"]);
    assert.equal((await storage.getTask("fresh-0"))?.idempotencyKey, "lost");
  });

  test("blocked tasks are listed through the index, in enqueue order, paged and filtered", async () => {
    const blocked = { dependencies: { on: ["elsewhere"], pass: "none" as const } };
    await storage.enqueue([
      ...newTasks(5, "x", { ...blocked, queue: "a" }),
      ...newTasks(1, "free"),
      ...newTasks(3, "y", { ...blocked, queue: "b", name: "other" }),
    ]);
    await storage.unblock(["x-1"]);
    const other = await openNatsStorage(NATS_URL, { prefix });
    try {
      const ids = async (filter: Parameters<Storage["listTasks"]>[0]) =>
        (await other.listTasks({ state: "blocked", ...filter })).map((task) => task.id);
      assert.deepEqual(await ids({}), ["x-0", "x-2", "x-3", "x-4", "y-0", "y-1", "y-2"]);
      assert.deepEqual(await ids({ offset: 2, limit: 3 }), ["x-3", "x-4", "y-0"]);
      assert.deepEqual(await ids({ queue: "b", limit: 2 }), ["y-0", "y-1"]);
      assert.deepEqual(await ids({ name: "other", offset: 1 }), ["y-1", "y-2"]);
    } finally {
      await other.close();
    }
  });

  test("a store made before the state bucket and record fields gets them on open", async () => {
    await storage.close();
    const nc = await connect({ servers: NATS_URL.replace("nats://", "") });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(`KV_${prefix}-state`);
      // A record as the backend wrote it before tasks had keys and dependencies.
      const [old] = newTasks(1, "old");
      const record = waitingRecord(old as NewTask);
      const tasks = await new Kvm(nc).open(`${prefix}-tasks`);
      await tasks.put("i.old-0", JSON.stringify({ task: record, order: 1 }));
    } finally {
      await nc.close();
    }

    storage = await openNatsStorage(NATS_URL, { prefix });
    const found = await storage.getTask("old-0");
    assert.equal(found?.idempotencyKey, null);
    assert.equal(found?.dependencies, null);
    assert.equal(await storage.putSchedule("s", "{}", null), 1);
  });
});

// A worker whose backend can settle and claim in one write (SQLite) refills
// its free slots in the write that settles the tasks that freed them. What
// that must keep: no more held than the concurrency, every task run once,
// nothing lost when the write fails, and the two-call path elsewhere.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncWorker, OmniQ } from "../../src/index.js";
import type { Storage } from "../../src/storage/contract.js";
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { syncAdd } from "../fixtures/tasks.js";
import { tempSqliteUrl } from "../helpers/temp.js";

interface Record {
  claims: number;
  settles: number;
  refills: number;
  /** Tasks claimed and not yet settled, at most, as the backend saw it. */
  mostHeld: number;
}

/**
 * `inner` seen through a wrapper that counts the worker's writes. `refill`
 * false hides settleAndClaim, as on a backend without it; `failFirstRefill`
 * makes the first settleAndClaim fail before it reaches the database.
 */
function recorded(
  inner: Storage,
  options: { refill: boolean; failFirstRefill?: boolean },
): { storage: Storage; record: Record } {
  const record: Record = { claims: 0, settles: 0, refills: 0, mostHeld: 0 };
  let held = 0;
  let failNext = options.failFirstRefill === true;
  const note = (settled: boolean[], claimed: number) => {
    held += claimed - settled.filter(Boolean).length;
    record.mostHeld = Math.max(record.mostHeld, held);
  };

  const overrides: Partial<Storage> = {
    claim: async (request) => {
      record.claims += 1;
      const tasks = await inner.claim(request);
      note([], tasks.length);
      return tasks;
    },
    settle: async (settlements) => {
      record.settles += 1;
      const applied = await inner.settle(settlements);
      note(applied, 0);
      return applied;
    },
    settleAndClaim: options.refill
      ? async (settlements, request) => {
          record.refills += 1;
          if (failNext) {
            failNext = false;
            throw new Error("the disk is briefly away");
          }
          const answer = await (inner.settleAndClaim as NonNullable<Storage["settleAndClaim"]>)(
            settlements,
            request,
          );
          note(answer.applied, answer.claimed.length);
          return answer;
        }
      : undefined,
  };
  const storage = new Proxy(inner, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property as keyof Storage];
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { storage, record };
}

/** Runs `count` tasks through an AsyncWorker of concurrency 8 on `storage`; checks each ran once. */
async function runAll(count: number, options: { refill: boolean; failFirstRefill?: boolean }) {
  const store = tempSqliteUrl();
  const inner = await openSqliteStorage(store.url);
  const { storage, record } = recorded(inner, options);
  const producer = await OmniQ.open({ storage: store.url, worker: false });
  const worker = new AsyncWorker({ storage, concurrency: 8, pollInterval: 20 });
  try {
    const ids = await producer.enqueueMany(
      Array.from({ length: count }, (_, i) => syncAdd.call(i, 1)),
    );
    await worker.start();

    const results = await Promise.all(ids.map((id) => producer.getResult(id, { timeout: "20s" })));
    assert.deepEqual(
      results,
      ids.map((_, i) => i + 1),
    );
    for (const id of ids) {
      const executing = (await producer.taskEvents(id)).filter((e) => e.type === "executing");
      assert.equal(executing.length, 1, `task ${id} ran once`);
    }
    return record;
  } finally {
    await worker.stop();
    await producer.close();
    await inner.close();
    store.remove();
  }
}

describe("worker refills in its settlements' write", () => {
  test("a full worker refills that way, never holding more than its concurrency", async () => {
    const record = await runAll(300, { refill: true });

    assert.ok(record.refills > 0, "settlements went through settleAndClaim");
    // Alone only once the queue has run dry and the worker no longer waits for a slot.
    assert.ok(
      record.settles < record.refills,
      `${record.settles} alone, ${record.refills} refills`,
    );
    assert.ok(record.mostHeld <= 8, `held at most ${record.mostHeld}, concurrency 8`);
    // Each refill write took a batch: far fewer claims than tasks.
    assert.ok(
      record.claims + record.refills < 300,
      `${record.claims} claims, ${record.refills} refills`,
    );
  });

  test("a failed refill write is tried again; no task is lost or run twice", async () => {
    const record = await runAll(100, { refill: true, failFirstRefill: true });

    assert.ok(record.refills > 1, "the failed write was followed by others");
    assert.ok(record.mostHeld <= 8, `held at most ${record.mostHeld}, concurrency 8`);
  });

  test("on a backend without settleAndClaim, settlements and claims go apart", async () => {
    const record = await runAll(100, { refill: false });

    assert.equal(record.refills, 0);
    assert.ok(record.settles > 0 && record.claims > 0);
    // There a slot is free once its task has ended, while the settlement is
    // still being written: at most 8 running, 8 being written and 8 more
    // gathering behind that write.
    assert.ok(record.mostHeld <= 24, `held at most ${record.mostHeld}, concurrency 8`);
  });
});

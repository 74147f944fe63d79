// A wait for a task this handle enqueued, on a backend that says when its
// signals may have been missed (Storage.signalEpoch), skips the first look at
// the store: the task's `finished` signal will tell. What must still hold: a
// task that ended before the wait is answered, a task stored under another
// id (its key was held) is looked up, and once signals may have been missed
// (the epoch moved) every wait looks first again.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Redis } from "ioredis";
import { OmniQ } from "../../src/index.js";
import { Unfinished } from "../../src/omniq/unfinished.js";
import type { Storage } from "../../src/storage/contract.js";
import { syncAdd } from "../fixtures/tasks.js";
import { privateRedis } from "../helpers/redis-server.js";
import { REDIS, skipUnless } from "../helpers/services.js";
import { until } from "../workers/helpers.js";

const skipRedis = await skipUnless(REDIS);
let stores = 0;

/** Records the ids `storage` is asked the outcome of. */
function countLookups(storage: Storage): string[] {
  const looked: string[] = [];
  const getOutcome = storage.getOutcome.bind(storage);
  storage.getOutcome = (id) => {
    looked.push(id);
    return getOutcome(id);
  };
  return looked;
}

/** A producer and, when asked, a worker on one fresh named memory store; the producer's lookups counted. */
async function open(options: { worker?: boolean } = {}) {
  stores += 1;
  const url = `memory://unfinished-${process.pid}-${stores}`;
  const producer = await OmniQ.open({ storage: url, worker: false });
  const worker = options.worker ? await OmniQ.open({ storage: url }) : null;
  const looked = countLookups(producer.storage);
  const close = async () => {
    await worker?.close();
    await producer.close();
  };
  return { producer, looked, close };
}

describe("waits for tasks this handle enqueued", () => {
  test("wait without reading the store first, and end on the task's signal", async () => {
    const { producer, looked, close } = await open();
    try {
      const id = await producer.enqueue(syncAdd, 2, 3);
      await assert.rejects(producer.getResult(id, { timeout: "50ms" }), /did not finish/);
      assert.deepEqual(looked, [], "no first look for a task enqueued here");

      const worker = await OmniQ.open({ storage: producer.config.storage });
      try {
        assert.equal(await producer.getResult(id, { timeout: "5s" }), 5);
      } finally {
        await worker.close();
      }
    } finally {
      await close();
    }
  });

  test("a task that ended before the wait is answered", async () => {
    const { producer, close } = await open({ worker: true });
    try {
      const id = await producer.enqueue(syncAdd, 1, 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await producer.getResult(id, { timeout: "1s" }), 2);
    } finally {
      await close();
    }
  });

  test("a task whose idempotency key is held answers the holder, which is looked up", async () => {
    const { producer, looked, close } = await open();
    const other = await OmniQ.open({ storage: producer.config.storage, worker: false });
    try {
      const later = syncAdd.with({ idempotencyKey: "k", delay: "1h" });
      const holder = await other.enqueue(later, 1, 1);
      const answered = await producer.enqueue(later, 5, 5);
      assert.equal(answered, holder);

      await assert.rejects(producer.getResult(answered, { timeout: "50ms" }), /did not finish/);
      assert.deepEqual(looked, [holder], "enqueued elsewhere: looked at first");
    } finally {
      await other.close();
      await close();
    }
  });
});

describe("waits on Redis after its pub/sub connection was lost", { skip: skipRedis }, () => {
  test("look at the store first for tasks enqueued before; not for those enqueued after", async () => {
    const server = await privateRedis();
    await server.start();
    const admin = new Redis(server.url);
    const producer = await OmniQ.open({ storage: server.url, worker: false });
    try {
      const storage = producer.storage as Storage & { signalEpoch: () => number };
      const looked = countLookups(storage);
      const before = await producer.enqueue(syncAdd, 1, 1);
      await assert.rejects(producer.getResult(before, { timeout: "50ms" }), /did not finish/);
      assert.deepEqual(looked, []);

      const epoch = storage.signalEpoch();
      assert.ok(Number(await admin.client("KILL", "TYPE", "pubsub")) >= 1);
      await until(() => storage.signalEpoch() !== epoch, "the lost connection noticed");
      await assert.rejects(producer.getResult(before, { timeout: "50ms" }), /did not finish/);
      assert.deepEqual(looked, [before], "a signal may have been missed: looked");

      const after = await producer.enqueue(syncAdd, 2, 2);
      await assert.rejects(producer.getResult(after, { timeout: "50ms" }), /did not finish/);
      assert.deepEqual(looked, [before], "noted in the new epoch: not looked");
    } finally {
      await producer.close();
      admin.disconnect();
      await server.remove();
    }
  });
});

describe("Unfinished", () => {
  test("knows a noted task until it is forgotten or the epoch moves", () => {
    let epoch = 7;
    const unfinished = new Unfinished(() => epoch);
    unfinished.note(["a", "b"]);
    assert.equal(unfinished.has("a"), true);
    assert.equal(unfinished.has("c"), false);

    unfinished.forget(["a"]);
    assert.equal(unfinished.has("a"), false);
    epoch = 8;
    assert.equal(unfinished.has("b"), false);
    unfinished.note(["c"]);
    assert.equal(unfinished.has("c"), true);
  });
});

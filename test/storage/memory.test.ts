// Behaviour of the memory backend that the contract does not cover: private
// and named stores, and what closing a handle does.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InvalidArgumentError, StorageError } from "../../src/errors.js";
import type { StorageSignal } from "../../src/storage/contract.js";
import { MemoryStorage, openMemoryStorage } from "../../src/storage/memory/index.js";
import { ManualClock } from "../../src/util/clock.js";
import { claimRequest, newTask, START } from "../contract/builders.js";

let names = 0;
/** A store name no other test uses. */
const freshName = () => `memory-test-${++names}`;

/** Resolves with the next signal `storage` delivers. */
function nextSignal(storage: MemoryStorage): Promise<StorageSignal> {
  return new Promise((resolve) => {
    const stop = storage.subscribe((signal) => {
      stop();
      resolve(signal);
    });
  });
}

describe("memory storage: private and named stores", () => {
  test("memory:// opens a store of its own each time", async () => {
    const first = await openMemoryStorage("memory://");
    const second = await openMemoryStorage("memory://");

    await first.enqueue([newTask({ id: "a" })]);

    assert.ok(await first.getTask("a"));
    assert.equal(await second.getTask("a"), null);
    await Promise.all([first.close(), second.close()]);
  });

  test("memory://NAME handles share one store", async () => {
    const url = `memory://${freshName()}`;
    const clock = new ManualClock(START);
    const producer = await openMemoryStorage(url, { clock });
    const worker = await openMemoryStorage(url, { clock });

    await producer.enqueue([newTask({ id: "a" })]);
    const [held] = await worker.claim(claimRequest());

    assert.equal(held?.id, "a");
    assert.equal((await producer.getTask("a"))?.state, "running");
    await Promise.all([producer.close(), worker.close()]);
  });

  test("the constructor's name and the URL reach the same store", async () => {
    const name = freshName();
    const direct = new MemoryStorage({ name });
    const viaUrl = await openMemoryStorage(`memory://${name}`);

    await direct.enqueue([newTask({ id: "a" })]);

    assert.ok(await viaUrl.getTask("a"));
    await Promise.all([direct.close(), viaUrl.close()]);
  });

  test("every handle on a named store gets its signals", async () => {
    const name = freshName();
    const one = new MemoryStorage({ name });
    const two = new MemoryStorage({ name });
    const heardByOne = nextSignal(one);
    const heardByTwo = nextSignal(two);

    await one.enqueue([newTask({ queue: "q" })]);

    assert.deepEqual(await heardByOne, { type: "ready", queue: "q" });
    assert.deepEqual(await heardByTwo, { type: "ready", queue: "q" });
    await Promise.all([one.close(), two.close()]);
  });

  test("each handle reads its own clock", async () => {
    const name = freshName();
    const early = new MemoryStorage({ name, clock: new ManualClock(START) });
    const late = new MemoryStorage({ name, clock: new ManualClock(START + 1_000) });

    await early.enqueue([newTask({ id: "a", runAt: START + 500 })]);

    assert.deepEqual(await early.claim(claimRequest()), []);
    assert.equal((await late.claim(claimRequest()))[0]?.id, "a");
    await Promise.all([early.close(), late.close()]);
  });

  test("without a clock the system clock is used", async () => {
    const storage = new MemoryStorage();
    const now = Date.now();

    await storage.enqueue([
      newTask({ id: "past", runAt: now - 60_000 }),
      newTask({ id: "future", runAt: now + 3_600_000 }),
    ]);

    assert.equal((await storage.getTask("past"))?.state, "pending");
    assert.equal((await storage.getTask("future"))?.state, "scheduled");
    await storage.close();
  });

  test("a URL of another scheme is refused with the forms allowed", async () => {
    await assert.rejects(openMemoryStorage("redis://localhost"), (error) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.match(error.message, /memory:\/\/NAME/);
      return true;
    });
  });
});

describe("memory storage: closing handles", () => {
  test("closing one handle keeps the data for the others", async () => {
    const url = `memory://${freshName()}`;
    const first = await openMemoryStorage(url);
    const second = await openMemoryStorage(url);
    await first.enqueue([newTask({ id: "a" })]);

    await first.close();

    assert.ok(await second.getTask("a"));
    const third = await openMemoryStorage(url);
    assert.ok(await third.getTask("a"), "a handle opened later still finds it");
    await Promise.all([second.close(), third.close()]);
  });

  test("closing the last handle drops the named store and its data", async () => {
    const url = `memory://${freshName()}`;
    const only = await openMemoryStorage(url);
    await only.enqueue([newTask({ id: "a" })]);

    await only.close();

    const reopened = await openMemoryStorage(url);
    assert.equal(await reopened.getTask("a"), null);
    await reopened.close();
  });

  test("a closed handle refuses work with a StorageError and can close again", async () => {
    const storage = new MemoryStorage();
    await storage.close();

    await assert.rejects(storage.enqueue([newTask()]), StorageError);
    await assert.rejects(storage.getTask("a"), StorageError);
    await storage.close();
  });

  test("a closed handle's listeners hear nothing more", async () => {
    const name = freshName();
    const closing = new MemoryStorage({ name });
    const staying = new MemoryStorage({ name });
    const heardByClosing: StorageSignal[] = [];
    closing.subscribe((signal) => heardByClosing.push(signal));
    const heardByStaying = nextSignal(staying);

    await closing.close();
    await staying.enqueue([newTask({ queue: "q" })]);

    assert.deepEqual(await heardByStaying, { type: "ready", queue: "q" });
    assert.deepEqual(heardByClosing, []);
    await staying.close();
  });

  test("a signal reaches listeners after the call that caused it has returned", async () => {
    const storage = new MemoryStorage();
    let returned = false;
    const heard = new Promise<boolean>((resolve) => {
      storage.subscribe(() => resolve(returned));
    });

    const call = storage.enqueue([newTask()]);
    returned = true;
    await call;

    assert.equal(await heard, true);
    await storage.close();
  });
});

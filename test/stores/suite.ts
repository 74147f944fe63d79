// The contract of ResultStore and EventStore (src/storage/stores.ts),
// checked against any backend. A backend's file calls `runStoreSuite(name)`.
import assert from "node:assert/strict";
import { describe, type TestContext, test } from "node:test";
import { StorageError } from "../../src/errors.js";
import type { TaskEvent } from "../../src/events/types.js";
import { openEventStore, openResultStore } from "../../src/storage/open-stores.js";
import type { EventStore, ResultStore } from "../../src/storage/stores.js";
import { type Backend, freshPlace, skipUnlessServed } from "../helpers/places.js";

const T0 = Date.UTC(2030, 0, 1);

/** Ids that are not plain: dots, spaces, slashes, unicode, a colon. */
const ODD_IDS = ["a.b.c", "with space", "x/y\\z", "ünïcødé-✓", "p:q", "UPPER"];

function event(seq: number, taskId = `t${seq % 3}`, extra: Partial<TaskEvent> = {}): TaskEvent {
  return {
    seq,
    taskId,
    type: "executing",
    at: T0 + seq * 1_000,
    queue: "default",
    name: "test.task",
    attempt: 1,
    ...extra,
  };
}

function range(from: number, to: number): TaskEvent[] {
  return Array.from({ length: to - from + 1 }, (_, i) => event(from + i));
}

interface Stores<S> {
  store: S;
  another(): Promise<S>;
}

/** Runs `body` with a fresh store on `backend` and a way to open more handles onto it. */
async function withStores<S extends { close(): Promise<void> }>(
  backend: Backend,
  open: (url: string) => Promise<S>,
  body: (stores: Stores<S>) => Promise<void>,
): Promise<void> {
  const place = freshPlace(backend, "stores");
  const handles: S[] = [];
  const another = async () => {
    const handle = await open(place.url);
    handles.push(handle);
    return handle;
  };
  try {
    await body({ store: await another(), another });
  } finally {
    for (const handle of handles) await handle.close();
    await place.cleanup();
  }
}

export function runStoreSuite(backend: Backend): void {
  describe(`result and event stores: ${backend}`, async () => {
    const skip = await skipUnlessServed(backend);
    const it = <S extends { close(): Promise<void> }>(
      name: string,
      open: (url: string) => Promise<S>,
      body: (stores: Stores<S>, t: TestContext) => Promise<void>,
    ) => test(name, { skip }, (t) => withStores(backend, open, (stores) => body(stores, t)));

    describe("ResultStore", () => resultTests((name, body) => it(name, openResultStore, body)));
    describe("EventStore", () => eventTests((name, body) => it(name, openEventStore, body)));
  });
}

type Register<S> = (
  name: string,
  body: (stores: Stores<S>, t: TestContext) => Promise<void>,
) => void;

function resultTests(it: Register<ResultStore>): void {
  it("keeps a result by task id and token", async ({ store }) => {
    await store.put([{ id: "a", token: 1, result: "dv1:[1]", expiresAt: T0 + 1_000 }]);
    assert.equal(await store.get("a", 1), "dv1:[1]");
    assert.equal(await store.get("a", 2), null, "another token of the same task");
    assert.equal(await store.get("b", 1), null, "another task");
  });

  it("keeps every token's result apart, and a second put of a key replaces it", async ({
    store,
  }) => {
    await store.put([
      { id: "a", token: 1, result: "first", expiresAt: T0 },
      { id: "a", token: 2, result: "second", expiresAt: T0 },
    ]);
    await store.put([{ id: "a", token: 2, result: "second again", expiresAt: T0 }]);
    assert.equal(await store.get("a", 1), "first");
    assert.equal(await store.get("a", 2), "second again");
  });

  it("takes ids that are not plain, and large results", async ({ store }) => {
    const big = "x".repeat(200_000);
    await store.put(
      ODD_IDS.map((id, i) => ({ id, token: i + 1, result: `${id}${big}`, expiresAt: T0 })),
    );
    for (const [i, id] of ODD_IDS.entries())
      assert.equal(await store.get(id, i + 1), `${id}${big}`);
    assert.equal(
      await store.get("upper", ODD_IDS.indexOf("UPPER") + 1),
      null,
      "ids keep their case",
    );
  });

  it("purge deletes what expires at or before now, and says how many", async ({ store }) => {
    await store.put([
      { id: "old", token: 1, result: "1", expiresAt: T0 - 1 },
      { id: "edge", token: 1, result: "2", expiresAt: T0 },
      { id: "new", token: 1, result: "3", expiresAt: T0 + 3 * 60_000 },
    ]);
    assert.equal(await store.purge(T0), 2);
    assert.equal(await store.get("old", 1), null);
    assert.equal(await store.get("edge", 1), null);
    assert.equal(await store.get("new", 1), "3");

    assert.equal(await store.purge(T0), 0, "nothing more is due");
    assert.equal(await store.purge(T0 + 3 * 60_000), 1);
    assert.equal(await store.get("new", 1), null);
  });

  it("another handle reads what one wrote", async ({ store, another }) => {
    const second = await another();
    await store.put([{ id: "shared", token: 3, result: "r", expiresAt: T0 }]);
    assert.equal(await second.get("shared", 3), "r");
    assert.equal(await second.purge(T0), 1);
    assert.equal(await store.get("shared", 3), null);
  });

  it("a closed handle refuses work with a StorageError; closing twice is fine", async ({
    store,
  }) => {
    await store.close();
    await store.close();
    await assert.rejects(store.get("a", 1), StorageError);
  });
}

function eventTests(it: Register<EventStore>): void {
  it("is empty at first", async ({ store }) => {
    assert.equal(await store.lastEventSeq(), 0);
    assert.deepEqual(await store.eventsSince(0, 10), []);
    assert.deepEqual(await store.taskEvents("t1"), []);
  });

  it("keeps events whole, with the queue's seqs, per task and in order", async ({ store }) => {
    const error = { name: "Boom", message: "it broke", stack: "Boom: it broke\n    at x" };
    const events = [
      event(5, "a", { type: "enqueued", attempt: 0 }),
      event(6, "b", { type: "enqueued", attempt: 0 }),
      event(9, "a", { type: "error", error }),
      event(10, "a", { type: "retry", runAt: T0 + 99 }),
    ];
    await store.append(events);

    assert.deepEqual(await store.eventsSince(0, 100), events);
    assert.deepEqual(await store.taskEvents("a"), [events[0], events[2], events[3]]);
    assert.equal(await store.lastEventSeq(), 10);
    assert.deepEqual(await store.eventsSince(6, 1), [events[2]], "after a seq, at most limit");
    assert.deepEqual(await store.eventsSince(6, 0), []);
  });

  it("skips events it already has, or below its greatest seq", async ({ store }) => {
    await store.append(range(1, 3));
    await store.append(range(2, 5));
    await store.append([event(4), event(6)]);

    const seqs = (await store.eventsSince(0, 100)).map((e) => e.seq);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
  });

  it("follows on with eventsSince page by page", async ({ store }) => {
    await store.append(range(1, 25));
    const seen: number[] = [];
    for (let after = 0; ; ) {
      const page = await store.eventsSince(after, 10);
      if (page.length === 0) break;
      seen.push(...page.map((e) => e.seq));
      after = page.at(-1)?.seq ?? after;
    }
    assert.deepEqual(
      seen,
      range(1, 25).map((e) => e.seq),
    );
  });

  it("two handles copying the same events at once store each once, in order", async ({
    store,
    another,
  }) => {
    const second = await another();
    const events = range(1, 120);
    const copy = async (to: EventStore) => {
      for (let i = 0; i < events.length; i += 20) await to.append(events.slice(i, i + 40));
    };
    await Promise.all([copy(store), copy(second)]);

    assert.deepEqual(
      (await second.eventsSince(0, 1_000)).map((e) => e.seq),
      events.map((e) => e.seq),
    );
  });

  it("takes task ids that are not plain", async ({ store }) => {
    await store.append(ODD_IDS.map((id, i) => event(i + 1, id)));
    for (const [i, id] of ODD_IDS.entries()) {
      assert.deepEqual(
        (await store.taskEvents(id)).map((e) => e.seq),
        [i + 1],
        id,
      );
    }
  });

  it("purge deletes events at or before the cutoff, oldest first", async ({ store }) => {
    await store.append(range(1, 10));
    assert.equal(await store.purge(T0 + 4_000), 4);
    assert.deepEqual(
      (await store.eventsSince(0, 100)).map((e) => e.seq),
      [5, 6, 7, 8, 9, 10],
    );
    assert.equal(await store.lastEventSeq(), 10);
    assert.equal(await store.purge(T0 + 4_000), 0);

    assert.equal(await store.purge(T0 + 100_000), 6);
    assert.deepEqual(await store.eventsSince(0, 100), []);
    await store.append(range(11, 12));
    assert.deepEqual(
      (await store.eventsSince(0, 100)).map((e) => e.seq),
      [11, 12],
      "appends go on after a purge",
    );
  });

  it("another handle reads what one wrote", async ({ store, another }) => {
    const second = await another();
    await store.append(range(1, 3));
    assert.equal(await second.lastEventSeq(), 3);
    assert.deepEqual(
      (await second.taskEvents("t1")).map((e) => e.seq),
      [1],
    );
  });

  it("a closed handle refuses work with a StorageError; closing twice is fine", async ({
    store,
  }) => {
    await store.close();
    await store.close();
    await assert.rejects(store.lastEventSeq(), StorageError);
  });
}

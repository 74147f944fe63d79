// The NATS backend's in-memory claim index, without a server: claim order
// across priorities and worker types, batches known through their commit
// marker, and delete markers kept for purging.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IndexEntry } from "../../src/storage/nats/index-entries.js";
import { IndexView } from "../../src/storage/nats/view.js";
import { claimRequest, START } from "../contract/builders.js";

let order = 0;
function entry(key: string, fields: Partial<IndexEntry> = {}): IndexEntry {
  order += 1;
  return {
    key,
    state: "waiting",
    queue: "default",
    priority: 0,
    runAt: START,
    worker: "async",
    expiresAt: null,
    order,
    leaseExpiresAt: null,
    batch: null,
    ...fields,
  };
}

const keys = (entries: readonly IndexEntry[]) => entries.map((e) => e.key);
const none = new Set<string>();

describe("nats claim index view", () => {
  test("merges worker types into one claim order", () => {
    const view = new IndexView();
    view.applyMarker("b1", [
      entry("t-low", { worker: "thread", priority: -1 }),
      entry("a-1", { worker: "async" }),
      entry("t-high", { worker: "thread", priority: 5 }),
      entry("p-early", { worker: "process", runAt: START - 10 }),
      entry("a-2", { worker: "async" }),
      entry("g", { worker: "gevent", priority: 9 }),
    ]);

    const request = claimRequest({ workers: ["async", "thread", "process"] });
    assert.deepEqual(keys(view.pick(request, START, 10, none)), [
      "t-high",
      "p-early",
      "a-1",
      "a-2",
      "t-low",
    ]);
    assert.deepEqual(keys(view.pick(request, START, 2, new Set(["t-high"]))), ["p-early", "a-1"]);
  });

  test("leaves out tasks not yet due or past their time-to-live", () => {
    const view = new IndexView();
    view.applyMarker("b1", [
      entry("later", { runAt: START + 1 }),
      entry("gone", { expiresAt: START }),
      entry("now"),
    ]);

    assert.deepEqual(keys(view.pick(claimRequest(), START, 10, none)), ["now"]);
    assert.deepEqual(keys(view.expiredWaiting(START)), ["gone"]);
  });

  test("an entry of a task's own replaces its marker entry; the marker is spent once all are", () => {
    const view = new IndexView();
    view.applyMarker("b1", [entry("a"), entry("b")]);
    assert.deepEqual(view.spentMarkers(), []);

    view.applyEntry("a", entry("a", { state: "running", leaseExpiresAt: START + 5 }), 10, 1);
    assert.deepEqual(keys(view.pick(claimRequest(), START, 10, none)), ["b"]);
    assert.deepEqual(keys(view.expiredLeases(START + 5)), ["a"]);
    assert.deepEqual(view.spentMarkers(), []);

    view.applyEntry("b", null, 11, 2);
    assert.deepEqual(view.spentMarkers(), ["b1"]);
    assert.deepEqual(view.pick(claimRequest(), START, 10, none), []);

    view.applyMarker("b1", null);
    assert.deepEqual(view.spentMarkers(), []);
    assert.equal(view.size, 1);
  });

  test("hands over delete markers older than a time, at most so many, each once", () => {
    const view = new IndexView();
    view.applyEntry("a", null, 1, 100);
    view.applyEntry("b", null, 2, 200);
    view.applyEntry("c", null, 3, 300);

    assert.deepEqual(
      view.takeTombstones(250, 1).map((t) => t.key),
      ["a"],
    );
    assert.deepEqual(
      view.takeTombstones(250, 10).map((t) => t.key),
      ["b"],
    );
    assert.deepEqual(view.takeTombstones(250, 10), []);
  });
});

// The gathering of getOutcome calls into batch lookups, as a unit: the
// lookup is a function here, standing in for the statement.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TaskOutcome } from "../../src/storage/contract.js";
import { OutcomeBatcher } from "../../src/storage/shared/outcome-batcher.js";

function recordingLookup(known: Record<string, TaskOutcome>) {
  const calls: string[][] = [];
  const lookup = async (ids: readonly string[]) => {
    calls.push([...ids]);
    return ids.map((id) => known[id] ?? null);
  };
  return { calls, lookup };
}

describe("postgres: outcome batcher", () => {
  test("calls made in one turn share one lookup, each id asked once", async () => {
    const { calls, lookup } = recordingLookup({ a: { state: "pending" }, b: { state: "running" } });
    const batcher = new OutcomeBatcher(lookup);

    const answers = await Promise.all(["a", "b", "a", "zzz"].map((id) => batcher.get(id)));

    assert.deepEqual(answers, [
      { state: "pending" },
      { state: "running" },
      { state: "pending" },
      null,
    ]);
    assert.deepEqual(calls, [["a", "b", "zzz"]]);
  });

  test("more than a thousand ids are split into lookups of at most a thousand", async () => {
    const { calls, lookup } = recordingLookup({});
    const batcher = new OutcomeBatcher(lookup);

    await Promise.all(Array.from({ length: 2_500 }, (_, i) => batcher.get(`t-${i}`)));

    assert.deepEqual(
      calls.map((ids) => ids.length),
      [1_000, 1_000, 500],
    );
  });

  test("calls in later turns make later lookups", async () => {
    const { calls, lookup } = recordingLookup({});
    const batcher = new OutcomeBatcher(lookup);

    await batcher.get("first");
    await batcher.get("second");

    assert.deepEqual(calls, [["first"], ["second"]]);
  });

  test("two callers of one id get objects of their own", async () => {
    const error = { name: "Error", message: "boom" };
    const { lookup } = recordingLookup({ a: { state: "failed", error } });
    const batcher = new OutcomeBatcher(lookup);

    const [one, two] = await Promise.all([batcher.get("a"), batcher.get("a")]);
    assert.ok(one?.error && two?.error);
    one.error.message = "changed";

    assert.equal(two.error.message, "boom");
  });

  test("a failed lookup rejects every caller of that batch", async () => {
    const batcher = new OutcomeBatcher(async () => {
      throw new Error("server gone");
    });

    const results = await Promise.allSettled([batcher.get("a"), batcher.get("b")]);

    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
  });
});

// The sorted list behind the NATS claim index and the files backend's
// listings: it must keep exactly the order and contents of a plain sorted
// array through adds and removes anywhere, across chunk splits and emptied
// chunks, and stay cheap at depth.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SortedChunks } from "../../src/storage/shared/sorted-chunks.js";

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const byValue = (a: number, b: number) => a - b;

describe("sorted chunks", () => {
  test("agrees with a sorted array through 30,000 random adds and removes", () => {
    const next = random(7);
    const list = new SortedChunks<number>(byValue);
    const reference: number[] = [];
    const present = new Set<number>();

    for (let step = 0; step < 30_000; step += 1) {
      if (reference.length === 0 || next() < 0.6) {
        // Half appended at the end (the common case), half anywhere.
        let value = next() < 0.5 ? 2e9 + step : Math.floor(next() * 1e9);
        while (present.has(value)) value += 1;
        present.add(value);
        list.add(value);
        reference.splice(lowerBound(reference, value), 0, value);
      } else {
        const at = next() < 0.5 ? 0 : Math.floor(next() * reference.length);
        const value = reference[at] as number;
        assert.equal(
          list.remove(value, (v) => v === value),
          true,
        );
        reference.splice(at, 1);
        present.delete(value);
        assert.equal(
          list.remove(value, (v) => v === value),
          false,
          "removed twice",
        );
      }
    }
    assert.equal(list.size, reference.length);
    assert.deepEqual([...list], reference);
  });

  test("first, shift and from walk the same order across chunks", () => {
    const list = new SortedChunks<number>(byValue);
    // Out of order, so chunks split in the middle as well as at the end.
    for (let i = 0; i < 5_000; i += 1) list.add((i * 7_919) % 5_000);
    assert.equal(list.add(42), false, "an equal item is not added twice");
    assert.equal(list.size, 5_000);

    assert.deepEqual([...list.from(4_997.5)], [4_998, 4_999]);
    assert.deepEqual([...list.from(-1)].length, 5_000);
    assert.deepEqual([...list.from(1_023)].slice(0, 3), [1_023, 1_024, 1_025]);

    for (let i = 0; i < 2_500; i += 1) {
      assert.equal(list.first(), i);
      assert.equal(list.shift(), i);
    }
    assert.equal(list.size, 2_500);
    assert.deepEqual(
      [...list],
      Array.from({ length: 2_500 }, (_, i) => 2_500 + i),
    );
  });

  test("removing from the front of a million items stays cheap", () => {
    const list = new SortedChunks<number>(byValue);
    for (let i = 0; i < 1_000_000; i += 1) list.add(i);

    const start = performance.now();
    for (let i = 0; i < 20_000; i += 1) list.remove(i, (v) => v === i);
    const ms = performance.now() - start;

    assert.equal(list.size, 980_000);
    assert.equal([...list][0], 20_000);
    // A plain array's shift takes about 1 ms each at this size (20 s in all).
    assert.ok(ms < 2_000, `20,000 removals took ${ms.toFixed(0)} ms`);
  });
});

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((sorted[mid] as number) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
